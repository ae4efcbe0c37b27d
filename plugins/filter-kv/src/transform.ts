/** `transform_key` / `transform_value`: Ruby's downcase, upcase and capitalize. */
export type Transform = (s: string) => string;

export function transformer(kind: string): Transform {
  switch (kind) {
    case 'lowercase':
      return (s) => s.toLowerCase();
    case 'uppercase':
      return (s) => s.toUpperCase();
    default:
      return (s) => {
        if (s.length === 0) return s;
        const first = String.fromCodePoint(s.codePointAt(0)!);
        return first.toUpperCase() + s.slice(first.length).toLowerCase();
      };
  }
}
