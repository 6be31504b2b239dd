"""``imagewatch completion bash|zsh|fish``: a completion script made from the argument parser.

The script lists each command's sub-commands and flags as they are defined
now, so it never drifts from the parser. Install, for example::

    imagewatch completion bash > /etc/bash_completion.d/imagewatch
    imagewatch completion zsh > "${fpath[1]}/_imagewatch"
    imagewatch completion fish > ~/.config/fish/completions/imagewatch.fish
"""

from __future__ import annotations

import argparse

SHELLS = ("bash", "zsh", "fish")


def _commands(parser: argparse.ArgumentParser, prefix: str = "") -> dict[str, tuple[list[str], list[str]]]:
    """``"db export"`` → (sub-commands, flags) for every command path of ``parser``."""
    flags = [o for a in parser._actions for o in a.option_strings if o.startswith("-")]
    subs: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            subs.update(action.choices)
    out = {prefix: (sorted(subs), sorted(flags))}
    for name, sub in subs.items():
        out.update(_commands(sub, f"{prefix} {name}".strip()))
    return out


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script for ``shell`` (bash, zsh or fish)."""
    table = _commands(parser)
    if shell == "fish":
        lines = ["complete -c imagewatch -f"]
        for path, (subs, flags) in table.items():
            cond = ("__fish_use_subcommand" if not path else
                    f"__fish_seen_subcommand_from {path.split()[-1]}")
            lines += [f"complete -c imagewatch -n '{cond}' -a {s}" for s in subs]
            lines += [f"complete -c imagewatch -n '{cond}' -l {f[2:]}" for f in flags if f.startswith("--")]
        return "\n".join(lines) + "\n"
    cases = "\n".join(f'        "{path}") words="{" ".join(subs + flags)}" ;;' for path, (subs, flags) in table.items())
    bash = f"""_imagewatch() {{
    local cur path="" w words
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    for w in "${{COMP_WORDS[@]:1:COMP_CWORD-1}}"; do
        case "$w" in -*) ;; *) case " $(_imagewatch_words "${{path}}") " in *" $w "*) path="${{path:+$path }}$w" ;; esac ;; esac
    done
    COMPREPLY=( $(compgen -W "$(_imagewatch_words "$path")" -- "$cur") )
    [ ${{#COMPREPLY[@]}} -eq 0 ] && COMPREPLY=( $(compgen -f -- "$cur") )
}}
_imagewatch_words() {{
    case "$1" in
{cases}
        *) words="" ;;
    esac
    echo "$words"
}}
"""
    if shell == "bash":
        return bash + "complete -F _imagewatch imagewatch\n"
    if shell == "zsh":
        return "#compdef imagewatch\nautoload -U +X bashcompinit && bashcompinit\n" + bash + \
            "complete -F _imagewatch imagewatch\n"
    raise ValueError(f"completion: unknown shell {shell!r} (use {', '.join(SHELLS)})")
