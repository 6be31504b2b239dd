"""The secret rule table: one row per rule, and the allow data that goes with it.

Patterns are Python regexes over bytes with a ``secret`` group; keywords are the
literals the prefilter looks for; anchors (optional) are the Hyperscan regexes
that replace keywords when a literal would hit too often. Specific rules come
first: when two rules match the same bytes, the earlier row wins. Written after
studying the gitleaks, Trivy and detect-secrets rule sets; token formats are the
providers' published ones.

Third-party and documentation paths (``THIRD_PARTY_PATHS``: site-packages,
dist-packages, node_modules, vendor trees, the Go and Python standard
libraries, usr/share/doc, man pages, package metadata, test fixture dirs) hold
other people's code, whose docstrings, tests and READMEs are full of example
credentials. There a rule does what its ``third_party`` field says:

* ``skip``: rules that need context to mean a secret (a keyword beside a
  free-form value, a password in a URL, a JWT, a .netrc or shadow line, a
  connection string; all ``generic`` rules and the ``CONTEXTUAL`` list) report
  nothing there: in library code such a match is an example far more often
  than a credential;
* ``low`` (the default): rules for a provider's self-identifying format (AWS key
  ids, GitHub/GitLab/Slack/Stripe tokens, private keys ...) still report, at
  severity ``low`` with a note in the remediation: a real token copied into
  site-packages is still a leak, but most hits there are test fixtures (CPython's
  test certificates, say), so they should not page anyone.

Unlike Trivy, which skips its ``usr/lib``, ``usr/share``, ``vendor`` and Python
paths for every rule, nothing here is unscanned. ``URL_*`` hold what makes a
URL with credentials a documentation example (``validators.not_doc_url``).
``table_data()`` is everything here that decides what is reported; the secrets
stage version hashes it, so changing any of it recomputes cached layers.
"""

from __future__ import annotations

from dataclasses import replace

from imagewatch.secrets.detect.rule import Rule

# Boundaries: no alphanumeric (or token character) right before / after.
LB = r"(?<![A-Za-z0-9])"
LBT = r"(?<![A-Za-z0-9_\-])"
RB = r"(?![A-Za-z0-9])"
RBT = r"(?![A-Za-z0-9_\-])"
RB64 = r"(?![A-Za-z0-9+/=])"
# key ... = value (quote optional) as in env files, YAML, JSON, code.
ASSIGN = r"""["']?\s{0,5}(?::=|=>|:|=)\s{0,5}["'`]?"""
UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
ROTATE = "Revoke the {0} in the provider's console, issue a new one and inject it at run time, not into the image."


def tok(body: str, lb: str = LB, rb: str = RB) -> str:
    """A self-identifying token: the whole match is the secret."""
    return f"{lb}(?P<secret>{body}){rb}"


def keyed(key: str, value: str, rb: str = RBT) -> str:
    """``key ... = value``: a provider name near an assignment, then the value."""
    return rf"(?i){LB}{key}[\w\-.]{{0,24}}?{ASSIGN}(?P<secret>{value}){rb}"


# Generic rules drop values that read like code, paths or words, not secrets.
GENERIC_ALLOW = (
    r"^[A-Za-z_][A-Za-z_.\-]*$",  # identifiers, words, dotted names
    r"^[./~]|^[A-Za-z]:\\",  # paths
    r"^(?:https?|file)://",
    r"^[0-9.\-:]+$",  # numbers, versions, dates, times
    r"^\d{2,5}/",  # host:port/path
    r"^(?:sha\d+|md5)[-:]",  # hashes and integrity strings
    rf"^{UUID}$",  # identifiers far more often than credentials
    # A provider's prefix that its own rule did not accept: the value fails that provider's documented
    # shape (a valid one is reported by the provider rule, which wins on the same bytes).
    r"^(?:gh[pousr]_|github_pat_|glpat-|xox[abposre]-|[sr]k_(?:live|test)_|AKIA|ASIA|AIza|npm_|hf_|dckr_pat_|SG\.|sgp_|squ_|hvs\.)",
)
GENERIC_VALUE = r"[^\s\"'`;,<>(){}\[\]\\|]{%d,128}+"
GENERIC_END = r"(?![(\w])"


def generic(id: str, title: str, key: str, keywords: tuple[str, ...], min_len: int, entropy: float) -> Rule:
    """A keyword-assignment rule with an entropy floor and placeholder filtering."""
    return Rule(
        id=id, title=title, severity="medium", keywords=keywords,
        pattern=rf"(?i)(?<![/.]){key}[\w\-]{{0,24}}?{ASSIGN}(?P<secret>{GENERIC_VALUE % min_len}){GENERIC_END}",
        # The anchor already demands min_len value characters with no template
        # sigil or dot, so `${VAR}` and `self.call()` lines never reach Python
        # (a dotted value is then only found if its head is dot-free).
        anchor=rf"(?i){key}[\w\-]{{0,24}}{ASSIGN}[^\s\"'`;,<>(){{}}\[\]\\|$%.]{{{min_len}}}",
        entropy=entropy, allow=GENERIC_ALLOW, generic=True,
        remediation="Move the value out of the image into a secret store or runtime injection, and rotate it.",
    )


# Base64, whitespace, PEM headers (Proc-Type, DEK-Info), JSON-escaped newlines.
PEM_BODY = r"(?:[A-Za-z0-9+/=\s\\:,.]|-(?!----))"


def _private_key(id: str, title: str, label: str, keyword: str, severity: str = "high") -> Rule:
    begin = rf"-----BEGIN {label}-----"
    end = r"-----END[ A-Z0-9]{0,40}-----"
    return Rule(
        id=id, title=title, severity=severity, keywords=(keyword,),
        pattern=rf"(?P<secret>{begin}(?:{PEM_BODY}{{32,65536}}?{end}|[A-Za-z0-9+/=\s\\]{{64,}}))",
        window=65536 + 256, placeholders=False,
        remediation="Remove the private key from the image, revoke the key pair and issue a new one.",
    )


_AWS_KEY_PREFIXES = ("akia", "asia", "abia", "acca", "agpa", "aida", "aroa", "aipa", "anpa", "anva", "apka", "a3t")

_TABLE: tuple[Rule, ...] = (
    Rule("gcp-service-account-private-key", "GCP service account private key (JSON key file)", "critical",
         ('"service_account"',),
         r"(?s)\"type\"\s*:\s*\"service_account\".{0,400}?\"private_key\"\s*:\s*\"(?P<secret>-----BEGIN (?:RSA )?PRIVATE KEY-----[A-Za-z0-9+/=\\\s]{100,4000}?-----END (?:RSA )?PRIVATE KEY-----)",
         window=8192, placeholders=False,
         remediation="Delete the service-account key in IAM, create a new one or use workload identity."),
    # --- private keys -------------------------------------------------------
    _private_key("private-key-rsa", "RSA private key", "RSA PRIVATE KEY", "begin rsa private key"),
    _private_key("private-key-ec", "EC private key", "EC PRIVATE KEY", "begin ec private key"),
    _private_key("private-key-dsa", "DSA private key", "DSA PRIVATE KEY", "begin dsa private key"),
    _private_key("private-key-openssh", "OpenSSH private key", "OPENSSH PRIVATE KEY", "begin openssh private key"),
    _private_key("private-key-pgp", "PGP private key block", "PGP PRIVATE KEY BLOCK", "begin pgp private key block"),
    _private_key("private-key-pkcs8", "PKCS#8 private key", "PRIVATE KEY", "begin private key"),
    _private_key("private-key-pkcs8-encrypted", "Encrypted PKCS#8 private key", "ENCRYPTED PRIVATE KEY", "begin encrypted private key", "medium"),
    _private_key("private-key-other", "Private key (other PEM type)", r"(?!RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )[A-Z0-9 ]{1,30} PRIVATE KEY", "private key-----"),
    Rule("private-key-putty", "PuTTY private key", "high", ("putty-user-key-file-",),
         r"(?P<secret>PuTTY-User-Key-File-\d: [\s\S]{32,8192}?Private-MAC: [0-9a-f]{40,64})", window=8192 + 512,
         placeholders=False),
    Rule("age-secret-key", "age secret key", "high", ("age-secret-key-1",),
         tok(r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}"), case_sensitive=False),
    # --- AWS ----------------------------------------------------------------
    Rule("aws-access-key-id", "AWS access key ID", "critical", tuple(k.upper() for k in _AWS_KEY_PREFIXES),
         tok(r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}"),
         case_sensitive=True, allow=(r"EXAMPLE$",), remediation=ROTATE.format("AWS access key")),
    Rule("aws-secret-access-key", "AWS secret access key", "critical", ("aws",),
         rf"(?i)aws[\w\-.]{{0,20}}?(?:secret|sec|key|token|pass|pwd)[\w\-.]{{0,20}}?[\"']?\s{{0,5}}(?::=|=>|:|=|\s)\s{{0,5}}[\"'`]?(?P<secret>[A-Za-z0-9/+]{{40}}){RB64}",
         entropy=3.0, allow=(r"EXAMPLEKEY$",), remediation=ROTATE.format("AWS secret access key")),
    Rule("aws-session-token", "AWS session token", "high", ("session_token", "sessiontoken", "session-token"),
         rf"(?i)session[_\-]?token[\"']?\s{{0,5}}(?::|=)\s{{0,5}}[\"']?(?P<secret>[A-Za-z0-9/+=]{{100,2048}}){RB64}",
         entropy=3.5),
    Rule("aws-sts-token-value", "AWS STS session token", "high", ("fwogzxivyxdz", "iqojb3jpz2lux2vj"),
         tok(r"(?:FwoGZXIvYXdz|IQoJb3JpZ2luX2Vj)[A-Za-z0-9/+=]{100,2048}", rb=RB64)),
    Rule("aws-mws-key", "Amazon MWS auth token", "high", ("amzn.mws.",), tok(rf"amzn\.mws\.{UUID}")),
    # --- Google Cloud / Firebase -------------------------------------------
    Rule("gcp-service-account-key-id", "GCP service account key", "critical", ("private_key_id",),
         r"\"private_key_id\"\s*:\s*\"(?P<secret>[a-f0-9]{40})\"",
         remediation="Delete the service-account key in IAM, create a new one or use workload identity."),
    Rule("gcp-api-key", "Google API key", "high", ("aiza",), tok(r"AIza[0-9A-Za-z_\-]{35}", lb=r"(?<![A-Za-z0-9+/_\-])", rb=r"(?![A-Za-z0-9_\-+/])")),
    Rule("gcp-oauth-client-secret", "Google OAuth client secret", "high", ("gocspx-",), tok(r"GOCSPX-[A-Za-z0-9_\-]{28}", rb=RBT)),
    Rule("gcp-oauth-access-token", "Google OAuth access token", "high", ("ya29.",), tok(r"ya29\.[0-9A-Za-z_\-]{50,}", rb=RBT)),
    Rule("firebase-fcm-server-key", "Firebase Cloud Messaging server key", "high", (":apa91b",),
         tok(r"AAAA[A-Za-z0-9_\-]{7}:APA91b[A-Za-z0-9_\-]{134}", rb=RBT)),
    # --- Azure --------------------------------------------------------------
    Rule("azure-storage-account-key", "Azure storage account key", "critical", ("accountkey",),
         rf"(?i)AccountKey\s*=\s*(?P<secret>[A-Za-z0-9+/]{{86}}==){RB64}"),
    Rule("azure-shared-access-key", "Azure Service Bus / Event Hubs shared access key", "high", ("sharedaccesskey",),
         rf"(?i)SharedAccessKey\s*=\s*(?P<secret>[A-Za-z0-9+/]{{43}}=){RB64}"),
    Rule("azure-sas-token", "Azure SAS token signature", "high", ("sig=",),
         r"(?:^|[?&;\s\"'])sv=\d{4}-\d{2}-\d{2}&[^\s\"']*?sig=(?P<secret>[A-Za-z0-9%+/]{40,}={0,2})"),
    Rule("azure-app-config-connection-string", "Azure App Configuration connection string", "high", (".azconfig.io",),
         r"(?i)Endpoint=https://[a-z0-9\-]+\.azconfig\.io;Id=[^;\s]+;Secret=(?P<secret>[A-Za-z0-9+/=]{20,})"),
    Rule("azure-entra-client-secret", "Azure Entra ID client secret", "high", ("q~",),
         tok(r"[A-Za-z0-9_~.\-]{3}\dQ~[A-Za-z0-9_~.\-]{31,34}", lb=r"(?<![A-Za-z0-9_~.\-])", rb=r"(?![A-Za-z0-9_~.\-])"),
         case_sensitive=False),
    Rule("azure-client-secret", "Azure client secret", "high", ("client_secret", "clientsecret", "client-secret"),
         keyed(r"(?:azure|az|arm)[_\-]?client[_\-]?secret", r"[A-Za-z0-9_~.\-]{34,44}"), entropy=3.5),
    Rule("azure-devops-pat", "Azure DevOps personal access token", "high", ("devops", "vsts", "ado_"),
         keyed(r"(?:azure[_\-]?devops|vsts|ado)", r"[a-z2-7]{52}|[A-Za-z0-9]{84}"), entropy=3.0),
    Rule("azure-ai-services-key", "Azure AI services key", "high", ("jqqj99",),
         tok(r"[A-Za-z0-9]{52}JQQJ99[A-Za-z0-9]{18}ACOG[A-Za-z0-9]{4}"), case_sensitive=False),
    Rule("azure-container-registry-key", "Azure container registry key", "high", ("jqqj99",),
         tok(r"[A-Za-z0-9]{52}JQQJ99[A-Za-z0-9]{18}AZCR[A-Za-z0-9]{4}")),
    Rule("azure-container-registry-password", "Azure container registry password", "high", ("azurecr.io",),
         rf"(?i)\.azurecr\.io.{{0,40}}?(?:password|passwd|pwd|secret)[\"']?\s*[:=]?\s*[\"']?(?P<secret>[A-Za-z0-9+/=]{{32,52}}){RB64}"),
    # --- GitHub -------------------------------------------------------------
    Rule("github-pat", "GitHub personal access token (classic)", "critical", ("ghp_",), tok(r"ghp_[A-Za-z0-9]{36}"),
         remediation=ROTATE.format("GitHub token")),
    Rule("github-fine-grained-pat", "GitHub fine-grained personal access token", "critical", ("github_pat_",),
         tok(r"github_pat_[A-Za-z0-9_]{82}", lb=""), remediation=ROTATE.format("GitHub token")),
    Rule("github-oauth-token", "GitHub OAuth access token", "critical", ("gho_",), tok(r"gho_[A-Za-z0-9]{36}")),
    Rule("github-user-to-server-token", "GitHub App user-to-server token", "critical", ("ghu_",), tok(r"ghu_[A-Za-z0-9]{36}")),
    Rule("github-app-installation-token", "GitHub App installation token", "critical", ("ghs_",),
         tok(r"ghs_(?:[A-Za-z0-9]{36}|\d{1,12}_[A-Za-z0-9_\-]{20,}\.[A-Za-z0-9_\-]{20,}\.[A-Za-z0-9_\-]{20,})", rb=RBT)),
    Rule("github-refresh-token", "GitHub refresh token", "critical", ("ghr_",), tok(r"ghr_[A-Za-z0-9]{36,76}")),
    # --- GitLab -------------------------------------------------------------
    Rule("gitlab-pat", "GitLab personal access token", "critical", ("glpat-",),
         tok(r"glpat-[A-Za-z0-9_\-]{20,}(?:\.[0-9a-z]{2}\.[a-z0-9]{9})?", rb=RBT)),
    Rule("gitlab-deploy-token", "GitLab deploy token", "high", ("gldt-",), tok(r"gldt-[A-Za-z0-9_\-]{20,}", rb=RBT)),
    Rule("gitlab-runner-registration-token", "GitLab runner registration token", "high", ("gr1348941",),
         tok(r"GR1348941[A-Za-z0-9_\-]{20,50}", rb=RBT)),
    Rule("gitlab-runner-auth-token", "GitLab runner authentication token", "high", ("glrt-",), tok(r"glrt-[A-Za-z0-9_\-]{20,}", rb=RBT)),
    Rule("gitlab-ci-build-token", "GitLab CI/CD job token", "high", ("glcbt-",),
         tok(r"glcbt-(?:[0-9a-fA-F]{1,5}_)?[A-Za-z0-9_\-]{20}", rb=RBT)),
    Rule("gitlab-incoming-mail-token", "GitLab incoming mail token", "medium", ("glimt-",), tok(r"glimt-[A-Za-z0-9_\-]{25}", rb=RBT)),
    Rule("gitlab-trigger-token", "GitLab pipeline trigger token", "high", ("glptt-",), tok(r"glptt-[A-Za-z0-9_\-]{40}", rb=RBT)),
    Rule("gitlab-agent-token", "GitLab agent for Kubernetes token", "high", ("glagent-",), tok(r"glagent-[A-Za-z0-9_\-]{50,1024}", rb=RBT)),
    Rule("gitlab-oauth-app-secret", "GitLab OAuth application secret", "high", ("gloas-",), tok(r"gloas-[A-Za-z0-9_\-]{64}", rb=RBT)),
    Rule("gitlab-scim-token", "GitLab SCIM token", "high", ("glsoat-",), tok(r"glsoat-[A-Za-z0-9_\-]{20,50}", rb=RBT)),
    Rule("gitlab-feed-token", "GitLab feed token", "medium", ("glft-",), tok(r"glft-[A-Za-z0-9_\-]{20}", rb=RBT)),
    Rule("gitlab-feature-flag-token", "GitLab feature flags client token", "medium", ("glffct-",), tok(r"glffct-[A-Za-z0-9_\-]{20}", rb=RBT)),
    # --- Bitbucket / Atlassian ---------------------------------------------
    Rule("bitbucket-app-password", "Bitbucket app password", "high", ("atbb",), tok(r"ATBB[A-Za-z0-9_=.\-]{32}", rb=RBT), case_sensitive=False),
    Rule("bitbucket-client-secret", "Bitbucket OAuth client secret", "high", ("bitbucket",),
         keyed(r"bitbucket[\w\-.]{0,20}?(?:secret|password|token)", r"[A-Za-z0-9=_\-]{32,64}"), entropy=3.5),
    Rule("atlassian-api-token", "Atlassian API token", "high", ("atatt3",), tok(r"ATATT3[A-Za-z0-9_\-=]{150,250}", rb=RBT)),
    Rule("atlassian-contextual-token", "Atlassian / Jira / Confluence API token", "high", ("atlassian", "confluence", "jira"),
         keyed(r"(?:atlassian|confluence|jira)[\w\-.]{0,20}?(?:token|secret|key|password)", r"[A-Za-z0-9]{24}"), entropy=3.5),
    # --- Chat ---------------------------------------------------------------
    Rule("slack-bot-token", "Slack bot token", "high", ("xoxb-",), tok(r"xoxb-[0-9]{10,13}-[0-9]{10,13}-?[A-Za-z0-9\-]{0,48}", rb=RBT)),
    Rule("slack-user-token", "Slack user token", "high", ("xoxp-", "xoxe-"),
         tok(r"xox[pe](?:-[0-9]{10,13}){3}-[A-Za-z0-9\-]{28,34}", rb=RBT)),
    Rule("slack-legacy-token", "Slack workspace / legacy token", "high", ("xoxa-", "xoxr-", "xoxs-", "xoxo-"),
         tok(r"xox[aros]-(?:\d-)?[0-9A-Za-z\-]{8,80}", rb=RBT)),
    Rule("slack-app-token", "Slack app-level token", "high", ("xapp-",), tok(r"xapp-\d-[A-Za-z0-9]+-\d+-[A-Za-z0-9]+", rb=RBT)),
    Rule("slack-config-token", "Slack configuration token", "high", ("xoxe.xox",), tok(r"xoxe\.xox[bp]-\d-[A-Z0-9]{150,170}", rb=RBT)),
    Rule("slack-webhook-url", "Slack incoming webhook URL", "medium", ("hooks.slack.com",),
         r"(?P<secret>hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/+\-]{40,})"),
    Rule("discord-bot-token", "Discord bot token", "high", (),
         r"(?P<secret>[MNO][A-Za-z\d_\-]{23,25}\.[A-Za-z\d_\-]{6}\.[A-Za-z\d_\-]{27,38})",
         anchor=r"[MNO][A-Za-z\d_\-]{23,25}\.[A-Za-z\d_\-]{6}\.[A-Za-z\d_\-]{27}"),
    Rule("discord-webhook-url", "Discord webhook URL", "medium", ("discord",),
         r"(?P<secret>https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d{17,20}/[A-Za-z0-9_\-]{60,68})"),
    Rule("discord-client-secret", "Discord client secret", "high", ("discord",),
         keyed(r"discord[\w\-.]{0,20}?(?:secret|token)", r"[A-Za-z0-9_\-]{32}"), entropy=3.5),
    Rule("telegram-bot-token", "Telegram bot token", "high", (":aa",),
         tok(r"\d{8,10}:AA[A-Za-z0-9_\-]{33}", lb=r"(?<![A-Za-z0-9_:])", rb=RBT)),
    Rule("telegram-bot-url", "Telegram bot token in API URL", "high", ("api.telegram.org/bot",),
         r"api\.telegram\.org/bot(?P<secret>\d{8,10}:AA[A-Za-z0-9_\-]{33})"),
    Rule("microsoft-teams-webhook", "Microsoft Teams webhook URL", "medium", (".webhook.office.com",),
         rf"(?P<secret>https://[a-z0-9]+\.webhook\.office\.com/webhookb2/{UUID}@{UUID}/IncomingWebhook/[a-z0-9]{{32}}/{UUID})"),
    # --- Payments -----------------------------------------------------------
    Rule("stripe-secret-key", "Stripe live secret key", "critical", ("_live_",), tok(r"(?:sk|rk)_live_[A-Za-z0-9]{24,99}")),
    Rule("stripe-webhook-secret", "Stripe webhook signing secret", "high", ("whsec_",), tok(r"whsec_[A-Za-z0-9]{32,}")),
    Rule("square-access-token", "Square access token", "high", ("eaaa", "sq0atp-"),
         tok(r"(?:EAAA[A-Za-z0-9_\-]{60}|sq0atp-[0-9A-Za-z_\-]{22})", rb=RBT)),
    Rule("square-oauth-secret", "Square OAuth secret", "high", ("sq0csp-",), tok(r"sq0csp-[0-9A-Za-z_\-]{43}", rb=RBT)),
    Rule("braintree-access-token", "PayPal Braintree access token", "critical", ("access_token$production$",),
         tok(r"access_token\$production\$[0-9a-z]{16}\$[0-9a-f]{32}")),
    Rule("paypal-client-secret", "PayPal client secret", "high", ("paypal",),
         keyed(r"paypal[\w\-.]{0,20}?secret", r"[A-Za-z0-9_\-]{40,80}"), entropy=3.5),
    Rule("flutterwave-secret-key", "Flutterwave secret key", "high", ("flwseck",),
         tok(r"FLWSECK(?:_TEST)?-[a-h0-9]{32}-X", rb=RB)),
    Rule("shopify-access-token", "Shopify access token", "high", ("shpat_", "shpca_", "shppa_"),
         tok(r"shp(?:at|ca|pa)_[a-fA-F0-9]{32}")),
    Rule("shopify-shared-secret", "Shopify shared secret", "high", ("shpss_",), tok(r"shpss_[a-fA-F0-9]{32}")),
    # --- Messaging / marketing ---------------------------------------------
    Rule("twilio-api-key", "Twilio API key or account SID", "high", ("AC", "SK"),
         tok(r"(?:AC|SK)[a-z0-9]{32}"), case_sensitive=True, anchor=r"(?:AC|SK)[a-z0-9]{32}"),
    Rule("sendgrid-api-key", "SendGrid API key", "high", ("SG.",),
         tok(r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}", rb=RBT), case_sensitive=True),
    Rule("mailgun-api-key", "Mailgun API key", "high", ("key-",), tok(r"key-[0-9a-f]{32}"), case_sensitive=True),
    Rule("mailchimp-api-key", "Mailchimp API key", "high", ("-us",), tok(r"[0-9a-f]{32}-us[0-9]{1,2}")),
    Rule("hubspot-private-app-token", "HubSpot private app token", "high", ("pat-na1-", "pat-eu1-"),
         tok(rf"pat-(?:na|eu)1-{UUID}")),
    Rule("hubspot-api-key", "HubSpot API key", "high", ("hubspot", "hapikey"),
         keyed(r"(?:hubspot|hapikey)", UUID), entropy=3.0),
    # --- Package registries -------------------------------------------------
    Rule("npm-access-token", "npm access token", "critical", ("npm_",), tok(r"npm_[A-Za-z0-9]{36}")),
    Rule("npmrc-auth-token", "npm registry auth token in .npmrc", "critical", ("_authtoken",),
         r"//[^\s/]+[^\s]*/:_authToken=\s*(?P<secret>[^\s\"']+)"),
    Rule("npmrc-auth-password", "npm registry password in .npmrc", "high", (":_password", ":_auth="),
         r"//[^\s/]+[^\s]*/:_(?:password|auth)=\s*(?P<secret>[^\s\"']{8,})"),
    Rule("pypi-upload-token", "PyPI upload token", "critical", ("pypi-ageichlwas5vcmc", "pypi-agendgvzdc5wexbplm9yzw"),
         tok(r"pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_\-]{70,}", rb=RBT)),
    Rule("rubygems-api-key", "RubyGems API key", "high", ("rubygems_",), tok(r"rubygems_[a-f0-9]{48}")),
    Rule("clojars-deploy-token", "Clojars deploy token", "high", ("clojars_",), tok(r"CLOJARS_[A-Za-z0-9]{60}")),
    Rule("private-packagist-token", "Private Packagist token", "high", ("packagist_",),
         tok(r"packagist_(?:ort|out|uut)_[A-Za-z0-9]{60,80}")),
    Rule("dockerhub-pat", "Docker Hub personal access token", "high", ("dckr_pat_", "dckr_oat_"),
         tok(r"dckr_(?:pat|oat)_[A-Za-z0-9_\-]{27,32}", rb=RBT)),
    Rule("docker-config-auth", "Registry credentials in Docker config.json", "high", ('"auth"',),
         r"\"auth\"\s*:\s*\"(?P<secret>[A-Za-z0-9+/]{16,}={0,2})\""),
    Rule("kubernetes-docker-config-secret", "Docker registry secret in a Kubernetes manifest", "high", (".dockerconfigjson", ".dockercfg"),
         r"\.docker(?:configjson|cfg)[\"']?\s*:\s*[\"']?(?P<secret>[A-Za-z0-9+/=]{8,})"),
    Rule("artifactory-api-key", "JFrog Artifactory API key or password", "high",
         ("AKC",) + tuple(f"AP{c}" for c in "0123456789ABCDEF"),
         r"(?:(?<=[\s=:\"])|^)(?P<secret>AKC[A-Za-z0-9]{10,}|AP[0-9A-F][A-Za-z0-9]{8,})(?=[\s\"]|$)",
         case_sensitive=True, anchor=r"(?:AKC[A-Za-z0-9]{10}|AP[0-9A-F][A-Za-z0-9]{8})"),
    Rule("maven-settings-password", "Plain-text password in Maven settings", "high", ("<password>", "<passphrase>"),
         r"<(?P<tag>password|passphrase)>\s*(?P<secret>[^<{$\s][^<]*?)\s*</(?P=tag)>"),
    Rule("maven-settings-master-password", "Plain-text Maven master password", "high", ("<master>",),
         r"<master>\s*(?P<secret>[^<{$\s][^<]*?)\s*</master>"),
    # --- Cloud / hosting ----------------------------------------------------
    Rule("heroku-api-key", "Heroku API key", "high", ("heroku",), keyed(r"heroku", UUID), entropy=3.0),
    Rule("heroku-platform-token", "Heroku platform token", "high", ("hrku-",), tok(r"HRKU-AA[0-9A-Za-z_\-]{58}", rb=RBT)),
    Rule("digitalocean-token", "DigitalOcean token", "high", ("dop_v1_", "doo_v1_", "dor_v1_"),
         tok(r"do[por]_v1_[a-f0-9]{64}")),
    Rule("alibaba-access-key-id", "Alibaba Cloud AccessKey ID", "high", ("ltai",), tok(r"LTAI[A-Za-z0-9]{20}"), case_sensitive=False),
    Rule("ibm-cloud-api-key", "IBM Cloud IAM API key", "high", ("ibm", "iam", "cloud", "apikey", "api_key", "api-key"),
         rf"(?i)(?:ibm|iam|cloud|api)[\w\-]{{0,20}}?(?:key|pwd|password|pass|token)[\"']?\s{{0,5}}(?::=|:|=)\s{{0,5}}[\"']?(?P<secret>[A-Za-z0-9_\-]{{44}}){RBT}",
         entropy=3.0),
    Rule("ibm-cos-hmac-secret", "IBM Cloud Object Storage HMAC secret", "high",
         ("secret_access_key", "secret_key", "secretaccesskey", "secret-access-key", "secret-key"),
         rf"(?i)secret[_\-]?(?:access)?[_\-]?key[\"']?\s{{0,5}}(?::=|:|=)\s{{0,5}}[\"']?(?P<secret>[a-f0-9]{{48}}){RB}"),
    Rule("softlayer-api-key", "IBM SoftLayer API key", "high", ("softlayer", "sl_", "sl-", "slapi", "slkey", "slpass"),
         rf"(?i)(?<![A-Za-z0-9])(?:softlayer|sl)[_\-]?(?:api)?[_\-]?(?:key|pwd|password|pass|token)[\"']?\s{{0,5}}(?::=|:|=|\s)\s{{0,5}}[\"']?(?P<secret>[a-z0-9]{{64}}){RB}"),
    Rule("softlayer-api-url", "IBM SoftLayer API key in URL", "high", ("api.softlayer.com",),
         r"(?i)api\.softlayer\.com/(?:soap|rest)/v3(?:\.1)?/(?P<secret>[a-z0-9]{64})"),
    Rule("ibm-cloudant-credential", "IBM Cloudant credential", "high", ("cloudant", "clou_", "cl_"),
         rf"(?i)(?<![A-Za-z0-9])(?:cloudant|clou|cl)[_\-]?(?:api)?[_\-]?(?:key|pwd|pw|password|pass|token)[\"']?\s{{0,5}}(?::=|:|=)\s{{0,5}}[\"'](?P<secret>[0-9a-f]{{64}}|[a-z]{{24}})[\"']"),
    Rule("hashicorp-vault-token", "HashiCorp Vault token", "critical", ("hvs.", "hvb.", "hvr."),
         tok(r"hv[sbr]\.[A-Za-z0-9_\-]{24,300}", rb=RBT)),
    Rule("terraform-cloud-token", "Terraform Cloud / Enterprise API token", "critical", (".atlasv1.",),
         tok(r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_\-=]{60,70}", rb=RBT)),
    Rule("pulumi-access-token", "Pulumi access token", "high", ("pul-",), tok(r"pul-[a-f0-9]{40}")),
    Rule("doppler-token", "Doppler token", "high", ("dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit."),
         tok(r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}")),
    Rule("fastly-api-token", "Fastly API token", "high", ("fastly",), keyed(r"fastly", r"[A-Za-z0-9_\-]{32}"), entropy=3.5),
    Rule("cloudflare-api-token", "Cloudflare API token", "high", ("cloudflare", "cf_api", "cf_token", "cf-api"),
         keyed(r"(?:cloudflare|cf[_\-]api|cf[_\-]token)", r"[A-Za-z0-9_\-]{40}"), entropy=3.5,
         allow=(r"^[a-f0-9]{40}$", r"^[A-Z0-9_]+$")),  # a SHA-1 (commit, checksum) or a constant name
    Rule("cloudflare-origin-ca-key", "Cloudflare Origin CA key", "high", ("v1.0-",), tok(r"v1\.0-[a-f0-9]{24}-[a-f0-9]{146}")),
    Rule("netlify-access-token", "Netlify access token", "high", ("nfp_",), tok(r"nfp_[A-Za-z0-9]{36}")),
    Rule("netlify-contextual-token", "Netlify access token (by name)", "high", ("netlify",),
         keyed(r"netlify", r"[A-Za-z0-9_\-]{40,46}"), entropy=3.5),
    Rule("vercel-token", "Vercel access token", "high", ("vercel",), keyed(r"vercel", r"[A-Za-z0-9]{24}"), entropy=3.5),
    Rule("supabase-token", "Supabase access token", "high", ("sbp_",), tok(r"sbp_[a-f0-9]{40}")),
    Rule("planetscale-token", "PlanetScale token or password", "high", ("pscale_tkn_", "pscale_pw_", "pscale_oauth_"),
         tok(r"pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_=.\-]{32,64}", rb=RBT)),
    Rule("databricks-token", "Databricks access token", "high", ("dapi",), tok(r"dapi[a-f0-9]{32}(?:-\d)?"), case_sensitive=True),
    Rule("scalingo-token", "Scalingo API token", "high", ("tk-us-",), tok(r"tk-us-[A-Za-z0-9_\-]{48}", rb=RBT)),
    # --- AI -----------------------------------------------------------------
    Rule("openai-api-key", "OpenAI API key", "critical", ("t3blbkfj",),
         tok(r"sk-(?!ant-|or-)(?:[a-z]+(?:-[a-z0-9]+)*-)?[A-Za-z0-9_\-]{16,100}T3BlbkFJ[A-Za-z0-9_\-]{16,100}", lb=LBT, rb=RBT)),
    Rule("openai-realtime-client-secret", "OpenAI realtime ephemeral key", "medium", ("ek_",), tok(r"ek_[a-f0-9]{32}", lb=LBT)),
    Rule("anthropic-api-key", "Anthropic API key", "critical", ("sk-ant-",),
         tok(r"sk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_\-]{80,100}AA", lb=LBT, rb=RBT)),
    Rule("huggingface-token", "Hugging Face access token", "high", ("hf_",), tok(r"hf_[A-Za-z0-9]{34,40}", lb=LBT)),
    Rule("huggingface-org-token", "Hugging Face organisation token", "high", ("api_org_",), tok(r"api_org_[A-Za-z0-9]{34}", lb=LBT)),
    # --- Observability / SaaS ----------------------------------------------
    Rule("grafana-api-key", "Grafana API key", "high", ("eyjrijoi",), tok(r"eyJrIjoi[A-Za-z0-9+/=_\-]{70,400}", rb=RB64)),
    Rule("grafana-cloud-token", "Grafana Cloud token", "high", ("glc_",), tok(r"glc_[A-Za-z0-9+/]{32,400}={0,2}", lb=LBT, rb=RB64)),
    Rule("grafana-service-account-token", "Grafana service account token", "high", ("glsa_",),
         tok(r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}", lb=LBT)),
    Rule("datadog-api-key", "Datadog API or application key", "high", ("datadog", "dd_api", "dd_app", "dd-api", "dd-app"),
         keyed(r"(?:datadog|dd)[_\-]?(?:api|app(?:lication)?)?[_\-]?key", r"[a-f0-9]{40}|[a-f0-9]{32}", rb=RB), entropy=3.0),
    Rule("newrelic-user-api-key", "New Relic user API key", "high", ("nrak-",), tok(r"NRAK-[A-Z0-9]{27}")),
    Rule("newrelic-insert-key", "New Relic insert key", "high", ("nrii-",), tok(r"NRII-[A-Za-z0-9_\-]{32}", rb=RBT)),
    Rule("newrelic-license-key", "New Relic license key", "high", ("nral",), tok(r"[a-f0-9]{36}NRAL")),
    Rule("sentry-org-token", "Sentry organisation token", "high", ("sntrys_",), tok(r"sntrys_eyJpYXQiO[A-Za-z0-9+/=_\-]{60,}", rb=RB64)),
    Rule("sentry-user-token", "Sentry user token", "high", ("sntryu_",), tok(r"sntryu_[a-f0-9]{64}")),
    Rule("dynatrace-api-token", "Dynatrace API token", "high", ("dt0c01.",), tok(r"dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}")),
    Rule("okta-api-token", "Okta API token", "high", ("okta",), keyed(r"okta[\w\-.]{0,20}?(?:token|key|secret)", r"00[A-Za-z0-9_\-]{40}"), entropy=3.5),
    Rule("postman-api-key", "Postman API key", "high", ("pmak-",), tok(r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}")),
    Rule("linear-api-key", "Linear API key", "high", ("lin_api_",), tok(r"lin_api_[A-Za-z0-9]{40}")),
    Rule("notion-token", "Notion integration token", "high", ("ntn_", "secret_"),
         tok(r"(?:ntn_[0-9]{11}[A-Za-z0-9]{35}|secret_[A-Za-z0-9]{43})", lb=LBT),
         anchor=r"(?:ntn_[0-9]{11}|secret_[A-Za-z0-9]{43})"),
    Rule("contentful-token", "Contentful personal access token", "high", ("cfpat-",), tok(r"CFPAT-[A-Za-z0-9_\-]{43}", rb=RBT)),
    Rule("asana-token", "Asana personal access token", "high", ("asana",),
         keyed(r"asana", r"[0-9]/[0-9]{10,16}(?:/[0-9]{10,16})?:[A-Za-z0-9]{32}", rb=RB)),
    Rule("airtable-token", "Airtable personal access token", "high", ("airtable",),
         keyed(r"airtable", r"pat[A-Za-z0-9]{14}\.[a-f0-9]{64}|key[A-Za-z0-9]{14}"), entropy=3.0),
    Rule("algolia-admin-key", "Algolia admin API key", "high", ("algolia",), keyed(r"algolia", r"[a-f0-9]{32}", rb=RB), entropy=3.0),
    Rule("sourcegraph-token", "Sourcegraph access token", "high", ("sgp_",), tok(r"sgp_(?:[a-fA-F0-9]{16}|local)_[a-fA-F0-9]{40}")),
    Rule("prefect-api-key", "Prefect API key", "high", ("pnu_",), tok(r"pnu_[A-Za-z0-9]{36}")),
    Rule("readme-api-key", "ReadMe API key", "medium", ("rdme_",), tok(r"rdme_[a-z0-9]{70}")),
    Rule("mapbox-secret-token", "Mapbox secret token", "high", ("sk.eyj1ijoi",), tok(r"sk\.eyJ1Ijoi[A-Za-z0-9_\-.]{60,}", rb=RBT)),
    Rule("facebook-access-token", "Facebook access token", "high", ("eaacedeose0cba",), tok(r"EAACEdEose0cBA[0-9A-Za-z]+")),
    Rule("shippo-api-token", "Shippo live API token", "high", ("shippo_live_",), tok(r"shippo_live_[a-f0-9]{40}")),
    Rule("frameio-api-token", "Frame.io API token", "medium", ("fio-u-",), tok(r"fio-u-[A-Za-z0-9_=\-]{64}", rb=RBT)),
    Rule("symfony-default-secret", "Symfony default secret left unchanged", "medium", ("thistokenisnotsosecretchangeit",),
         r"(?P<secret>ThisTokenIsNotSoSecretChangeIt)", placeholders=False,
         remediation="Set a random kernel.secret / APP_SECRET at run time."),
    Rule("symfony-app-secret", "Symfony APP_SECRET", "medium", ("app_secret",),
         rf"APP_SECRET\s*=\s*[\"']?(?P<secret>[a-f0-9]{{32}}){RB}"),
    # --- Providers added from their documented formats (issue 14) ---------
    Rule("snyk-api-token", "Snyk API token", "high", ("snyk",),
         keyed(r"snyk[\w\-.]{0,20}?(?:token|key|api|auth)", UUID, rb=RB), entropy=3.0),
    Rule("sidekiq-enterprise-credentials", "Sidekiq Pro / Enterprise gem credentials", "high", ("contribsys",),
         rf"(?i)BUNDLE_(?:ENTERPRISE|GEMS)__CONTRIBSYS__COM{ASSIGN}(?P<secret>[a-f0-9]{{8}}:[a-f0-9]{{8}}){RB}"),
    Rule("sonarqube-token", "SonarQube token", "high", ("squ_", "sqp_", "sqa_"), tok(r"sq[upa]_[a-f0-9]{40}", lb=LBT)),
    Rule("sonarqube-contextual-token", "SonarQube token (by name)", "high", ("sonar",),
         keyed(r"sonar[\w\-.]{0,20}?(?:token|login|key)", r"[a-f0-9]{40}", rb=RB), entropy=3.0),
    Rule("flyio-access-token", "Fly.io access token", "high", ("fo1_", "fm1a_", "fm1r_", "fm2_"),
         tok(r"(?:fo1_[A-Za-z0-9_\-]{43}|fm1[ar]_[A-Za-z0-9+/]{100,}={0,3}|fm2_[A-Za-z0-9+/]{100,}={0,3})",
             lb=LBT, rb=RB64)),
    Rule("sumologic-access-id", "Sumo Logic access ID", "medium", ("sumo",),
         keyed(r"sumo[\w\-.]{0,20}?(?:id|access)", r"su[A-Za-z0-9]{12}", rb=RB), entropy=3.0),
    Rule("sumologic-access-key", "Sumo Logic access key", "high", ("sumo",),
         keyed(r"sumo[\w\-.]{0,20}?(?:key|secret)", r"[A-Za-z0-9]{64}", rb=RB), entropy=3.5),
    Rule("1password-service-account-token", "1Password service account token", "critical", ("ops_eyj",),
         tok(r"ops_eyJ[A-Za-z0-9+/]{250,}={0,3}", lb=LBT, rb=RB64)),
    Rule("1password-secret-key", "1Password account secret key", "critical", ("A3-",),
         tok(r"A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}", lb=LBT),
         case_sensitive=True),
    Rule("facebook-page-access-token", "Facebook / Meta user or page access token", "high", ("EAA",),
         tok(r"EAA[A-Z][A-Za-z0-9]{96,300}"), case_sensitive=True, entropy=4.0),
    Rule("facebook-app-secret", "Facebook app secret or app access token", "high", ("facebook", "fb_", "fb-"),
         keyed(r"(?:facebook|fb)[\w\-.]{0,20}?(?:secret|token)", r"\d{15,16}\|[A-Za-z0-9_\-]{27,43}|[a-f0-9]{32}", rb=RBT),
         entropy=3.0),
    Rule("intra42-client-secret", "42 intra client secret", "high", ("s-s4t2ud-", "s-s4t2af-"),
         tok(r"s-s4t2(?:ud|af)-[a-f0-9]{64}", lb=LBT)),
    Rule("slack-config-refresh-token", "Slack configuration refresh token", "high", ("xoxe-1-",),
         tok(r"xoxe-1-[A-Za-z0-9]{140,160}", rb=RBT)),
    Rule("sourcegraph-legacy-token", "Sourcegraph access token (legacy format)", "high", ("sgp_", "sourcegraph"),
         tok(r"sgp_[a-f0-9]{40}|(?<=sourcegraph)[\w\-.]{0,20}?[\"']?\s{0,5}[:=]\s{0,5}[\"']?[a-f0-9]{40}"),
         entropy=3.0),
    Rule("stripe-test-key", "Stripe test-mode secret or restricted key", "low", ("_test_",),
         tok(r"(?:sk|rk)_test_[A-Za-z0-9]{24,99}")),
    Rule("aws-bedrock-api-key", "Amazon Bedrock API key", "critical", ("ABSKQmVkcm9ja0FQSUtleS", "bedrock-api-key-"),
         tok(r"ABSKQmVkcm9ja0FQSUtleS[A-Za-z0-9+/]{60,300}={0,2}|bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/%=]{40,2000}",
             lb=LBT, rb=RB64), case_sensitive=True),
    Rule("cloudflare-global-api-key", "Cloudflare global API key", "critical",
         ("cloudflare", "cf_api", "cf-api", "cf_key", "x-auth-key"),
         keyed(r"(?:cloudflare[\w\-.]{0,20}?(?:key|api)|cf[_\-]api[_\-]?key|cf[_\-]key|x-auth-key)", r"[a-f0-9]{37}", rb=RB),
         entropy=3.0),
    Rule("messagebird-api-key", "MessageBird (Bird) API key", "high", ("messagebird", "message-bird", "message_bird"),
         keyed(r"message[_\-]?bird[\w\-.]{0,20}?(?:key|token|access)", r"[A-Za-z0-9]{25}", rb=RB), entropy=3.5),
    Rule("openshift-user-token", "OpenShift user token", "high", ("sha256~",), tok(r"sha256~[A-Za-z0-9_\-]{43}", lb=LBT, rb=RBT)),
    Rule("vault-legacy-token", "HashiCorp Vault token (legacy format)", "high", ("vault",),
         keyed(r"vault[\w\-.]{0,20}?token", r"[sbr]\.[A-Za-z0-9]{24}", rb=RB), entropy=3.0),
    Rule("terraform-token-env", "Terraform registry token in TF_TOKEN_*", "high", ("tf_token_",),
         rf"(?i){LB}TF_TOKEN_[A-Za-z0-9_\-]{{2,100}}{ASSIGN}(?P<secret>[A-Za-z0-9_.\-]{{20,200}}){RBT}", generic=True),
    # --- Contextual credentials -------------------------------------------
    Rule("curl-user-password", "Password in a curl -u / --user argument", "high", ("curl",),
         r"\bcurl\b[^\n|;&]{0,300}?\s(?:-u|--user)(?:\s+|=)?[\"']?[^\s:\"'$]{1,64}:(?P<secret>[^\s\"']{4,128})",
         generic=True),
    Rule("http-auth-header-argument", "Credential in an HTTP header argument (curl -H, wget --header)", "high",
         ("authorization", "x-api-key", "x-auth-token", "private-token", "x-auth-key", "api-key", "x-access-token"),
         r"(?i)(?:-H|--header)[ =]?[\"']?(?:authorization|x-api-key|x-auth-token|private-token|x-auth-key|api-key|x-access-token)\s*:\s*(?:(?:bearer|token|basic|apikey|api-key|key|sso-key)[ =]+)?(?P<secret>[A-Za-z0-9_\-.=+/:~]{16,512})",
         entropy=3.3, generic=True),
    Rule("kubernetes-secret-data", "Value in a Kubernetes Secret manifest", "high", ("kind: secret",),
         r"(?s)kind:[ \t]*[\"']?Secret[\"']?[ \t]*\r?\n.{0,3000}?\n(?:data|stringData):[ \t]*\r?\n(?:[ \t]+#[^\n]*\n)*[ \t]+[\w.\-]+:[ \t]*(?:[|>][-+]?[ \t]*\r?\n[ \t]+)?[\"']?(?P<secret>[^\s\"'#]{6,})",
         window=4096, generic=True, entropy=2.5),
    Rule("nuget-cleartext-password", "Clear-text password in NuGet packageSourceCredentials", "high", ("cleartextpassword",),
         r"(?i)key\s*=\s*[\"']ClearTextPassword[\"']\s+value\s*=\s*[\"'](?P<secret>[^\"']{4,256})[\"']", generic=True,
         allow=(r"^%[A-Za-z_][A-Za-z0-9_]*%$",)),
    # --- Structured credentials --------------------------------------------
    Rule("jwt", "JSON Web Token", "medium", ("eyj",),
         tok(r"eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{2,}(?:\.[A-Za-z0-9_\-]{10,})?", lb=LBT, rb=RBT),
         validator="jwt", case_sensitive=False),
    Rule("url-credentials", "Password in a URL", "high", ("://",),
         r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]{1,20}://[^\s:@/\"'<>]{1,64}:(?P<secret>[^\s@/\"'<>]{3,128})@[A-Za-z0-9.\-_\[\]]+",
         anchor=r"://[^\s:@/\"'<>]{1,64}:[^\s@/\"'<>]{3,128}@", allow=(r"^\d{1,5}$",), validator="url"),
    Rule("netrc-password", "Password in a .netrc file", "high", ("machine",),
         r"machine\s+\S+\s+login\s+\S+\s+password\s+(?P<secret>\S+)"),
    Rule("linux-password-hash", "Password hash in a shadow file", "medium", (":$1$", ":$5$", ":$6$", ":$y$", ":$2a$", ":$2b$", ":$2y$"),
         r"(?m)^[a-z_][a-z0-9_\-]{0,31}:(?P<secret>\$(?:1|5|6|y|2[aby])\$[^:\s]{8,}):",
         remediation="Lock the account (no password) or set it at run time; do not bake password hashes into images."),
    Rule("http-basic-auth-header", "HTTP basic auth credentials", "high", ("basic ",),
         r"(?i)authorization[\"']?\s*[:=]\s*[\"']?basic\s+(?P<secret>[A-Za-z0-9+/]{16,}={0,2})", entropy=3.0),
    Rule("http-bearer-token", "HTTP bearer token", "medium", ("bearer ",),
         r"(?i)authorization[\"']?\s*[:=]\s*[\"']?bearer\s+(?P<secret>[A-Za-z0-9_\-.=+/]{20,})", entropy=3.5, generic=True),
    # --- Generic assignments (last: a specific rule wins on the same bytes) ---
    generic("generic-password", "Password assignment", r"(?:password|passwd|pwd)", ("password", "passwd", "pwd"), 8, 3.0),
    generic("generic-secret", "Secret assignment", r"(?:secret|private[_\-]?key)", ("secret", "private_key", "privatekey", "private-key"), 12, 3.3),
    generic("generic-api-key", "API key assignment", r"api[_\-]?key", ("api_key", "apikey", "api-key"), 16, 3.5),
    generic("generic-token", "Token assignment", r"(?:token|auth[_\-]?key|access[_\-]?key)", ("token", "auth_key", "authkey", "access_key", "accesskey"), 16, 3.5),
)

# Rules that need context to mean a secret: skipped under THIRD_PARTY_PATHS
# (as are all generic rules). The others match a self-identifying format.
CONTEXTUAL: frozenset[str] = frozenset({
    "aws-session-token", "gcp-service-account-key-id",
    "azure-storage-account-key", "azure-shared-access-key", "azure-sas-token",
    "azure-app-config-connection-string", "azure-client-secret", "azure-devops-pat",
    "azure-container-registry-password", "bitbucket-client-secret", "atlassian-contextual-token",
    "discord-client-secret", "paypal-client-secret", "hubspot-api-key",
    "npmrc-auth-token", "npmrc-auth-password", "docker-config-auth", "kubernetes-docker-config-secret",
    "maven-settings-password", "maven-settings-master-password", "heroku-api-key",
    "ibm-cloud-api-key", "ibm-cos-hmac-secret", "softlayer-api-key", "ibm-cloudant-credential",
    "fastly-api-token", "cloudflare-api-token", "netlify-contextual-token", "vercel-token",
    "datadog-api-key", "okta-api-token", "asana-token", "airtable-token", "algolia-admin-key",
    "symfony-default-secret", "symfony-app-secret", "jwt", "url-credentials", "netrc-password",
    "linux-password-hash", "http-basic-auth-header",
    "snyk-api-token", "sonarqube-contextual-token", "sumologic-access-id", "sumologic-access-key",
    "facebook-app-secret", "sourcegraph-legacy-token", "cloudflare-global-api-key", "messagebird-api-key",
    "vault-legacy-token", "gcp-service-account-private-key", "terraform-token-env", "curl-user-password",
    "http-auth-header-argument", "kubernetes-secret-data", "nuget-cleartext-password",
})

RULES: tuple[Rule, ...] = tuple(
    replace(r, third_party="skip") if r.generic or r.id in CONTEXTUAL else r for r in _TABLE)

# Third-party code and documentation, as image path globs (see ``paths.py``).
THIRD_PARTY_PATHS: tuple[str, ...] = (
    # Python: installed distributions, their metadata, the standard library (and its test/).
    "**/site-packages/**", "**/dist-packages/**", "**/*.dist-info/**", "**/*.egg-info/**",
    "**/lib/python[0-9]*/**",
    # JavaScript
    "**/node_modules/**", "**/bower_components/**", "opt/yarn-v*/**", "usr/share/nodejs/**",
    # Go: the toolchain's sources (Debian's golang-1.x too), the module cache, vendor trees.
    "usr/lib/go/src/**", "usr/lib/go-*/src/**", "usr/local/go/src/**", "**/go/pkg/mod/**",
    "**/vendor/**",
    # Ruby, Perl, PHP, Rust, Java package trees.
    "usr/lib/ruby/**", "var/lib/gems/**", "usr/local/bundle/**", "**/ruby/gems/**",
    "usr/share/perl*/**", "usr/share/php/**", "**/.cargo/registry/**", "**/.m2/repository/**",
    # Documentation.
    "usr/share/doc/**", "usr/share/man/**", "usr/share/info/**", "usr/share/gtk-doc/**",
    "usr/local/share/doc/**", "usr/local/share/man/**",
    # Test fixtures shipped inside packages and source trees.
    "**/testdata/**", "**/tests/fixtures/**", "**/test/fixtures/**",
)

# A URL with credentials is a documentation example, not reported, when its host
# is reserved for documentation (RFC 2606 / 6761), or when user and password are
# both placeholder words (compared percent-decoded, accents removed, letters and
# digits only) and either the host is local or a placeholder name, or the words
# are spelled with percent escapes (IRI examples: ``%C3%BCser:p%C3%A4ssword``).
URL_DOC_HOST = r"(?:^|\.)example(?:\.|$)|\.(?:example|test|invalid|localhost)$"
URL_PLACEHOLDER_HOSTS: frozenset[str] = frozenset({
    "localhost", "127.0.0.1", "::1", "0.0.0.0", "host", "hostname", "host.com", "myhost", "yourhost",
    "server", "myserver", "domain", "domain.com", "domain.tld", "mydomain.com", "yourdomain.com",
})
URL_PLACEHOLDER_USERS: frozenset[str] = frozenset({
    "user", "username", "usr", "login", "name", "me", "foo", "myuser", "myusername", "youruser",
    "yourusername", "someuser", "dbuser", "testuser", "admin", "root", "john", "jdoe", "alice", "bob",
})
URL_PLACEHOLDER_PASSWORDS: frozenset[str] = frozenset({
    "pass", "password", "passwd", "pwd", "pw", "secret", "mypass", "mypassword", "yourpassword",
    "userpassword", "pass123", "password123", "bar", "changeme",
})


def table_data() -> tuple:
    """Everything in this module that decides what is reported (hashed into the stage version)."""
    return (RULES, THIRD_PARTY_PATHS, URL_DOC_HOST, sorted(URL_PLACEHOLDER_HOSTS),
            sorted(URL_PLACEHOLDER_USERS), sorted(URL_PLACEHOLDER_PASSWORDS))


def default_rules() -> list[Rule]:
    """Return the built-in rules, in priority order."""
    return list(RULES)
