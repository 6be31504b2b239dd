-- endoflife.date release cycles of OS releases and runtimes, replaced per product on import.
CREATE TABLE eol_releases (
    product      text NOT NULL,
    cycle        text NOT NULL,
    codename     text NOT NULL DEFAULT '',
    release_date date,
    eol          date,
    eol_flag     boolean NOT NULL DEFAULT false,
    eoes         date,
    latest       text NOT NULL DEFAULT '',
    PRIMARY KEY (product, cycle)
);
