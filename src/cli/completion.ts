import type { Command } from 'commander';

// Shell completion generated from the command tree itself, so it cannot drift
// from the commands: after a command path (`keys rotate`), complete its
// subcommands and options; anything else falls back to file names.

/** files: the command takes a free argument (a file name), not only the words listed. */
interface Entry { path: string; words: string[]; files: boolean }

function entries(cmd: Command, prefix: string[] = []): Entry[] {
  const words = [
    ...cmd.commands.map((c) => c.name()),
    ...cmd.registeredArguments.flatMap((a) => a.argChoices ?? []),
    ...cmd.options.flatMap((o) => [o.long, o.short].filter((f): f is string => !!f)),
    '--help',
  ];
  const files = cmd.registeredArguments.some((a) => !a.argChoices);
  const own = { path: prefix.join(' '), words, files };
  return [own, ...cmd.commands.flatMap((c) => entries(c, [...prefix, c.name()]))];
}

// Longest path first, so `keys rotate` wins over `keys` in a case statement.
const byDepth = (cmd: Command) => entries(cmd).sort((a, b) => b.path.split(' ').length - a.path.split(' ').length || b.path.length - a.path.length);

export function bashCompletion(program: Command): string {
  const name = program.name();
  const cases = byDepth(program)
    .map((e) => `    "${e.path}"${e.path ? '*' : ''}) words="${e.words.join(' ')}"${e.files ? ' files=1' : ''} ;;`).join('\n');
  return `# bash completion for ${name}: source <(${name} completion bash)
_${name}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" words="" files="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    [[ \${COMP_WORDS[i]} == -* ]] || path="\${path:+$path }\${COMP_WORDS[i]}"
  done
  case "$path" in
${cases}
  esac
  if [[ $cur != -* ]] && [[ -n $files ]]; then
    COMPREPLY=( $(compgen -f -- "$cur") )
  else
    COMPREPLY=( $(compgen -W "$words" -- "$cur") )
  fi
}
complete -o default -F _${name} ${name}
`;
}

export function zshCompletion(program: Command): string {
  const name = program.name();
  const cases = byDepth(program)
    .map((e) => `    "${e.path}"${e.path ? '*' : ''}) candidates=(${e.words.join(' ')})${e.files ? ' files=1' : ''} ;;`).join('\n');
  return `#compdef ${name}
# zsh completion for ${name}: source <(${name} completion zsh), or save as _${name} in a directory of $fpath
_${name}() {
  local path_="" files="" w
  local -a candidates
  for w in "\${(@)words[2,CURRENT-1]}"; do
    [[ $w == -* ]] || path_="\${path_:+$path_ }$w"
  done
  case "$path_" in
${cases}
  esac
  if [[ $PREFIX != -* && -n $files ]]; then _files; else compadd -- $candidates; fi
}
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then _${name} "$@"; else compdef _${name} ${name}; fi
`;
}
