"""Global allow patterns: templates and placeholders that are not secrets.

Two classes, with different consequences (see ``Rule.generic``):

* templates (``${VAR}``, ``{{ x }}``, ``<your-token>``, ``%s``, ``$VAR``) are
  references to a secret kept elsewhere: never reported, by any rule;
* placeholders (``EXAMPLE``, ``xxxx``, dummy/sample/fake/changeme, repeated or
  sequential characters) are dropped by generic rules and reported at severity
  ``info`` by specific rules, whose exact token format makes a look-alike worth
  a glance but not an alert.
"""

from __future__ import annotations

import re

_TEMPLATE = re.compile(
    r"""
    \$\{[^}]*\}            # ${VAR}, ${env.X}
    | \$\([^)]*\)          # $(command)
    | ^\$[A-Za-z_]\w*$     # $VAR
    | \{\{.*?\}\}          # {{ value }}
    | \{%.*?%\}            # {% tag %}
    | <%.*?%>              # <%= erb %>
    | ^<[^<>]{1,64}>$      # <your-token>
    | <your[^>]*>
    | %[sdr]\b | %\(\w+\)s # printf style
    | ^\{\w+\}$            # {secret}
    | ^\#\{[^}]*\}$        # ruby interpolation
    | ^\$\d+$ | ^\$\{?\d+\}?$
    | (?:os\.environ|process\.env|getenv|System\.getenv|ENV\[)
    """,
    re.VERBOSE,
)

_PLACEHOLDER = re.compile(
    r"""
    example | sample | dummy | fake | placeholder | redacted | censored
    | change[_\-.]?me | changeit\b | replace[_\-.]?me | insert[_\-.]
    | your[_\-.]?(?:api|app|secret|access|auth|own|private)?[_\-.]?(?:key|token|secret|password|pass)
    | x{4,} | \*{3,} | \.{4,} | _{4,} | -{4,}
    | \btest(?:ing)?\b | \bnot[_\-.]?(?:a[_\-.]?)?(?:real|secret)
    | (?P<rep>.)(?P=rep){5,}
    | (?P<per>.{2,8}?)(?P=per){3,}
    | 0123456 | 123456789 | 987654321 | abcdefgh | qwerty | asdfgh
    | ^(?:password|passwd|secret|token|none|null|nil|true|false|undefined|empty)$
    """,
    re.VERBOSE | re.IGNORECASE,
)


def is_template(value: str) -> bool:
    """True when ``value`` refers to a secret kept elsewhere (variable, template)."""
    return _TEMPLATE.search(value) is not None


def is_placeholder(value: str) -> bool:
    """True when ``value`` looks like a documentation placeholder, not a secret."""
    return _PLACEHOLDER.search(value) is not None
