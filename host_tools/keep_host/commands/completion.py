"""keep completion: a shell completion script, made from keep's own argument parser.

    eval "$(keep completion bash)"     # in ~/.bashrc
    eval "$(keep completion zsh)"      # in ~/.zshrc (through zsh's bashcompinit)

Subcommands, their options and option choices come from the parser, so
the script is as current as the keep that printed it; board and app names
are listed when it is printed; -p/--port asks `keep ports -q` at the time
of completion (attached boards and running virtual boards).
"""

import argparse
import shlex

from ..errors import UsageError

HELP = "print a shell completion script (bash or zsh): eval \"$(keep completion bash)\""
SHELLS = ("bash", "zsh")
FILE_OPTIONS = {"--output", "-o", "--record", "--replay", "--firmware", "-f", "--flash",
                "--table", "--drive", "--names"}


def add_arguments(p):
    p.add_argument("shell", choices=SHELLS, metavar="SHELL", help="bash or zsh")


def _subparsers(parser):
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            return a.choices
    return {}


def _words(parser):
    """(options, {option taking a value: its choices or None}, positional choices)."""
    opts, takes, positional = [], {}, []
    for a in parser._actions:
        if a.option_strings:
            if a.help == argparse.SUPPRESS:
                continue
            opts += a.option_strings
            if a.nargs != 0:
                for o in a.option_strings:
                    takes[o] = list(a.choices) if a.choices else None
        elif a.choices and not isinstance(a, argparse._SubParsersAction):
            positional += list(a.choices)
    return opts, takes, positional


def _commands(parser, path=""):
    """[(command path, words to offer there)] for keep and each (sub)command, and
    {option taking a value: its choices or None} over all of them."""
    opts, takes, positional = _words(parser)
    subs = _subparsers(parser)
    out = [(path, list(subs) + positional + opts)]
    for name, sub in subs.items():
        more, more_takes = _commands(sub, f"{path} {name}".strip())
        out += more
        takes.update(more_takes)
    return out, takes


def _reply(words):
    return f'COMPREPLY=($(compgen -W {shlex.quote(" ".join(map(str, words)))} -- "$cur"))'


def bash_script(parser):
    from ..boards import board_names
    from ..paths import FIRMWARE

    apps = sorted(p.name for p in (FIRMWARE / "apps").iterdir() if (p / "app.toml").is_file())
    commands, takes = _commands(parser)
    special = {"-p", "--port", "--board", "--app"}
    files = sorted(o for o in takes if o in FILE_OPTIONS)
    free = sorted(o for o in takes if o not in FILE_OPTIONS and o not in special and not takes[o])
    values = [f"        {o}) {_reply(c)}; return ;;" for o, c in sorted(takes.items())
              if c and o not in special]
    values += [
        f"        --board) {_reply(board_names())}; return ;;",
        f"        --app) {_reply(apps)}; return ;;",
        '        -p|--port) COMPREPLY=($(compgen -W "$(keep ports -q 2>/dev/null)" -- "$cur")); '
        "return ;;",
        f'        {"|".join(files)}) COMPREPLY=($(compgen -f -- "$cur")); return ;;',
        f"        {'|'.join(free)}) return ;;  # a value only the user knows",
    ]
    known = "|".join(shlex.quote(path) for path, _ in commands if path)
    return "\n".join([
        "# keep shell completion (bash), printed by `keep completion bash`",
        "_keep() {",
        '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
        '    local path="" words="" i w',
        "    COMPREPLY=()",
        '    case "$prev" in',
        *values,
        "    esac",
        "    # The (sub)command typed so far: the words before the cursor that name one.",
        "    for ((i = 1; i < COMP_CWORD; i++)); do",
        '        w="${path:+$path }${COMP_WORDS[i]}"',
        f'        case "$w" in {known}) path="$w" ;; esac',
        "    done",
        '    case "$path" in',
        *[f"        {shlex.quote(path) if path else chr(39) * 2}) words={shlex.quote(' '.join(words))} ;;"
          for path, words in commands],
        "    esac",
        "    # Options only once a dash is typed: `keep trace <TAB>` offers `export`.",
        '    if [[ "$cur" != -* ]]; then',
        '        local w2="" ; for w in $words; do [[ "$w" == -* ]] || w2="$w2 $w"; done; words="$w2"',
        "    fi",
        '    COMPREPLY=($(compgen -W "$words" -- "$cur"))',
        "}",
        "complete -o default -F _keep keep",
        "",
    ])


def main(args):
    from ..cli import build_parser

    script = bash_script(build_parser())
    if args.shell == "zsh":
        script = ("# keep shell completion (zsh, through bashcompinit), printed by "
                  "`keep completion zsh`\nautoload -U +X compinit && compinit\n"
                  "autoload -U +X bashcompinit && bashcompinit\n" + script)
    elif args.shell != "bash":
        raise UsageError(f"no completion for {args.shell}: {', '.join(SHELLS)}")
    print(script, end="")
    return 0
