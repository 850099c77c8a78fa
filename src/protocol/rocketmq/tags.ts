// Tag filter codes (rocketmq-remoting.md §12.1): tagsCode = Java
// String.hashCode() of the tag — h = 31·h + UTF-16 code unit, int32 wrap.
// Computed here from tag strings; clients' codeSets are not trusted (Go hashes
// UTF-8 bytes).

export function tagsCode(tag: string): number {
  let h = 0;
  for (let i = 0; i < tag.length; i++) h = (Math.imul(31, h) + tag.charCodeAt(i)) | 0;
  return h;
}

/** Tags of a TAG subscription expression: `*` or empty → null (match all); else split on `||`. */
export function parseTagExpression(expression: string | undefined): Set<string> | null {
  if (expression === undefined) return null;
  const trimmed = expression.trim();
  if (trimmed === '' || trimmed === '*') return null;
  const tags = new Set<string>();
  for (const part of trimmed.split('||')) {
    const tag = part.trim();
    if (tag.length > 0) tags.add(tag);
  }
  return tags.size === 0 ? null : tags;
}
