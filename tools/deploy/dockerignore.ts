// .dockerignore semantics, enough to ask "does this file reach the build context?": patterns apply
// in order, the last one that matches decides, `!` re-includes, and a pattern that matches a folder
// covers everything below it.
export function parseDockerignore(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

export function isIgnored(path: string, patterns: string[]): boolean {
  const prefixes = path.split('/').map((_, index, parts) => parts.slice(0, index + 1).join('/'));
  let ignored = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    const glob = new Bun.Glob(negated ? pattern.slice(1) : pattern);
    if (prefixes.some((prefix) => glob.match(prefix))) ignored = !negated;
  }
  return ignored;
}
