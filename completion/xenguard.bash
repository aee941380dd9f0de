# bash completion for xenguard(8) — installed by `make install` as
# $(PREFIX)/share/bash-completion/completions/xenguard.
#
# Nothing is listed here by hand that the program can say itself, so the
# completion cannot drift from the binary: the verbs come from
# `xenguard --help`, each verb's options (and whether one takes a value:
# "--config FILE") from `xenguard VERB --help`, the check IDs from
# `xenguard audit --list`, an option's fixed values from the verb's usage
# lines ("[-f nft|iptables]"). Only the value sets no usage line spells out
# are listed below. Values named FILE, DIR or PATH complete as paths.

# xenguard VERB --help -> "--opt" or "--opt=ARG" words, one per line
_xenguard_options() {
    local help
    help=$("$1" "$2" --help 2>/dev/null)
    # "  -c, --config FILE": the short form takes the same value
    sed -nE 's/^ +(-[A-Za-z]), --[A-Za-z0-9-]+ ([A-Z][A-Z_|:]*).*/\1=\2/p' <<<"$help"
    grep -oE -- '(^|[ ,[])--?[A-Za-z][A-Za-z0-9-]*( [A-Z][A-Z_|:]*)?' <<<"$help" |
        sed -E 's/^[ ,[]//; s/ /=/'
}

# xenguard VERB --help, OPTION -> the values its usage lines spell "OPT a|b|c"
# (under the option's short or long name), one line, space-separated
_xenguard_values() {
    local help names
    help=$("$1" "$2" --help 2>/dev/null)
    # the option's other name, from "  -f, --format F"
    names=$(sed -nE "s/^ +(-[A-Za-z]), (--[a-z][a-z0-9-]*).*/\1 \2/p" <<<"$help" |
        awk -v o="$3" '$1 == o || $2 == o { print $1 "|" $2 }')
    names=${names:-$3}
    sed -n '1,/^$/p' <<<"$help" |
        grep -oE -- "(^|[[ ])($names)[ =][a-z0-9][a-z0-9-]*(\|[a-z0-9][a-z0-9-]*)+" |
        head -n 1 | sed -E 's/^[[ ]?[^ =]+[ =]//; s/\|/ /g'
}

_xenguard() {
    local cur prev xg verb i words
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
    xg=${COMP_WORDS[0]}
    COMPREPLY=()
    verb=
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
        -*) ;;
        *) verb=${COMP_WORDS[i]}; break ;;
        esac
    done
    if [[ -z $verb ]]; then
        words=$("$xg" --help 2>/dev/null | sed -nE 's/^  ([a-z][a-z-]*)  .*/\1/p')
        COMPREPLY=($(compgen -W "$words --help --version" -- "$cur"))
        return 0
    fi

    # the value of the option before the cursor: its usage line's, else these
    words=
    [[ $prev == -* ]] && words=$(_xenguard_values "$xg" "$verb" "$prev")
    [[ -n $words ]] || case $verb:$prev in
    audit:--format | audit:-f | fleet:--format | fleet:-f) words="text json junit" ;;
    firewall:--format | firewall:-f) words="nft iptables ip6tables bridge" ;;
    perimeter:--format | perimeter:-f) words="nft iptables ip6tables" ;;
    analyze:--format | analyze:-f | status:--format | status:-f) words="text json" ;;
    *:--color) words="auto always never" ;;
    audit:--fail-on) words="info low medium high critical" ;;
    *:--backend | *:-b) words="auto nft iptables" ;;
    *:--rollback-via) words="auto process systemd" ;;
    audit:--skip)
        words=$("$xg" audit --list 2>/dev/null | cut -d' ' -f1) ;;
    esac
    if [[ -n $words ]]; then
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
        return 0
    fi
    local opt arg
    while read -r opt; do
        [[ $opt == *=* ]] || continue
        [[ ${opt%%=*} == "$prev" ]] || continue
        arg=${opt#*=}
        case $arg in
        DIR) COMPREPLY=($(compgen -d -- "$cur")) ;;
        FILE | PATH | OLD | NEW) COMPREPLY=($(compgen -f -- "$cur")) ;;
        *) COMPREPLY=() ;; # a number, an address, a name: nothing to offer
        esac
        return 0
    done < <(_xenguard_options "$xg" "$verb")

    if [[ $cur == -* ]]; then
        words=$(_xenguard_options "$xg" "$verb" | sed 's/=.*//' | sort -u)
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
        return 0
    fi
    case $verb in
    harden) COMPREPLY=($(compgen -W "xend sshd sysctl" -- "$cur")) ;;
    vif) COMPREPLY=($(compgen -W "online offline list" -- "$cur")) ;;
    *) COMPREPLY=($(compgen -f -- "$cur")) ;;
    esac
    return 0
}
complete -F _xenguard xenguard
