/**
 * JANDI turns `[[text]](url)` (and `[text](url)`, `![alt](url)`) into links and images, and chat
 * clients make bare URLs clickable. Text that came from a webhook must never do either, so the
 * brackets that open or close such markup (`[[`, `![`, `](`) become fullwidth (［ ］), `://`
 * becomes `:／／` and `www.` becomes `www．`: still readable, no longer markup. Line breaks and
 * other control characters become spaces, so a value cannot start a line (or a link reference
 * definition) of its own; bidirectional overrides are dropped so text reads as it is.
 */
// Control characters are exactly what this pattern is for.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const BIDI = /[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const MARKUP = /\[\[|!\[|\]\(|:\/\/|www\./gi;
const REPLACEMENTS: Readonly<Record<string, string>> = {
  '[[': '\uff3b\uff3b',
  '![': '!\uff3b',
  '](': '\uff3d(',
  '://': ':\uff0f\uff0f',
};

export function plainText(text: string): string {
  return text
    .replace(CONTROL, ' ')
    .replace(BIDI, '')
    .replace(MARKUP, (found) => REPLACEMENTS[found] ?? `${found.slice(0, 3)}\uff0e`);
}
