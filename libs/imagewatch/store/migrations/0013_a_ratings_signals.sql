-- CVSS ratings of CVEs from CVE JSON 5 records (CNA and ADP containers) and
-- NVD, one row per (CVE, provider): ``cna:<short name>``, ``adp:<short name>``
-- or ``nvd``. Findings no advisory rates take their severity from here
-- (advisories.borrowed.fill_from_cve).
CREATE TABLE cve_ratings (
    vuln_id    text NOT NULL,
    provider   text NOT NULL,
    source     text NOT NULL,
    score      double precision,
    rating     text NOT NULL,
    vector     text NOT NULL DEFAULT '',
    record_updated text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (vuln_id, provider)
);

-- CISA Known Exploited Vulnerabilities: the current catalog, replaced whole on import.
CREATE TABLE kev_entries (
    cve        text PRIMARY KEY,
    date_added date,
    due_date   date,
    ransomware boolean NOT NULL DEFAULT false,
    name       text NOT NULL DEFAULT '',
    listed_at  timestamptz NOT NULL DEFAULT now()
);

-- FIRST EPSS: the latest probability and percentile of each scored CVE.
CREATE TABLE epss_scores (
    cve         text PRIMARY KEY,
    probability double precision NOT NULL,
    percentile  double precision NOT NULL,
    score_date  date
);
