/** SEC's time-based action list variables (%t, %.hmsstr, ...), from local time like Perl's localtime. */
const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

const p2 = (n: number) => (n < 10 ? '0' + n : String(n));

/** Perl's scalar(localtime(t)): "Thu Nov  9 10:58:51 2015". */
export function perlCtime(sec: number): string {
  const d = new Date(sec * 1000);
  const day = d.getDate();
  return `${DAY[d.getDay()]} ${MON[d.getMonth()]} ${day < 10 ? ' ' + day : day} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${d.getFullYear()}`;
}

/** The zone's short name per UTC offset (it changes only with DST): an Intl formatter is costly to make. */
const tzNames = new Map<number, string>();
let tzFormat: Intl.DateTimeFormat | undefined;

function tzName(d: Date): string {
  const offset = d.getTimezoneOffset();
  let name = tzNames.get(offset);
  if (name === undefined) {
    tzFormat ??= new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' });
    const v = tzFormat.formatToParts(d).find((p) => p.type === 'timeZoneName')?.value ?? '';
    name = v === 'GMT' && offset === 0 && (process.env.TZ ?? '').toUpperCase().startsWith('UTC') ? 'UTC' : v;
    tzNames.set(offset, name);
  }
  return name;
}

export function setTimeVars(vars: Map<string, string | undefined>, sec: number): void {
  const d = new Date(sec * 1000);
  vars.set('.sec', p2(d.getSeconds()));
  vars.set('.min', p2(d.getMinutes()));
  vars.set('.hour', p2(d.getHours()));
  vars.set('.hmsstr', `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`);
  const md = d.getDate();
  vars.set('.mday', p2(md));
  vars.set('.mdaystr', md < 10 ? ' ' + md : String(md));
  vars.set('.mon', p2(d.getMonth() + 1));
  vars.set('.monstr', MON[d.getMonth()]);
  vars.set('.year', String(d.getFullYear()));
  vars.set('.wday', String(d.getDay()));
  vars.set('.wdaystr', DAY[d.getDay()]);
  vars.set('.tzname', tzName(d));
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const a = Math.abs(off);
  vars.set('.tzoff', `${sign}${p2(Math.floor(a / 60))}${p2(a % 60)}`);
  vars.set('.tzoff2', `${sign}${p2(Math.floor(a / 60))}:${p2(a % 60)}`);
}

export function setCharVars(vars: Map<string, string | undefined>): void {
  vars.set('%', '%');
  vars.set('.nl', '\n');
  vars.set('.cr', '\r');
  vars.set('.tab', '\t');
  vars.set('.sp', ' ');
  for (let i = 0; i < 32; i++) vars.set(`.chr${i}`, String.fromCharCode(i));
}

/** Fields of local time that Calendar rules test. */
export function calendarNow(sec: number): { min: number; hour: number; day: number; month: number; year: number; wday: number; lastDay: boolean } {
  const d = new Date(sec * 1000);
  const next = new Date((sec + 86400) * 1000);
  return { min: d.getMinutes(), hour: d.getHours(), day: d.getDate(), month: d.getMonth(), year: d.getFullYear() - 1900, wday: d.getDay(), lastDay: next.getDate() === 1 };
}
