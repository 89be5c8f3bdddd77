# confTime TIME: a layered image's created or mtime as nixpkgs' conf step
# writes it into conf.json (`date -Iseconds -d TIME`, in a Nix build,
# whose time zone is UTC): the whole second in UTC, as
# YYYY-MM-DDTHH:MM:SS+00:00, whatever offset and fraction TIME has (its
# stream script then writes that second as the config's created, so the
# image ID depends on it: 2024-05-06T07:08:09.5+02:00 is
# 2024-05-06T05:08:09+00:00 there). now stays now. A form this does not
# read (say mtime's 20240506) or a date that does not exist (02-30, 24:00)
# is given back as it is, for the tools to read or refuse.
let
  inherit (builtins) elemAt fromJSON match stringLength substring;

  # A number of digits as an integer (fromJSON refuses leading zeros).
  num = s: fromJSON (elemAt (match "0*([0-9]+)" s) 0);
  pad = w: n: let s = toString n; in
    if stringLength s >= w then s else pad w ("0" + s);
  # Integer division rounding down (Nix's / rounds toward zero).
  fdiv = a: b: let q = a / b; in if q * b > a then q - 1 else q;

  # Days since 1970-01-01 of a proleptic Gregorian date, and back
  # (H. Hinnant's days_from_civil and civil_from_days).
  daysFromCivil = y: m: d:
    let
      y' = if m <= 2 then y - 1 else y;
      era = fdiv y' 400;
      yoe = y' - era * 400;
      doy = (153 * (if m > 2 then m - 3 else m + 9) + 2) / 5 + d - 1;
    in
    era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
  civilFromDays = days:
    let
      z = days + 719468;
      era = fdiv z 146097;
      doe = z - era * 146097;
      yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
      doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
      mp = (5 * doy + 2) / 153;
      m = if mp < 10 then mp + 3 else mp - 9;
    in
    { y = yoe + era * 400 + (if m <= 2 then 1 else 0); inherit m; d = doy - (153 * mp + 2) / 5 + 1; };

  # YYYY-MM-DD, then T (or t, or a blank) HH:MM[:SS[.F]] and Z or an
  # offset ±HH[[:]MM]: the ISO forms the tools read as a time.
  re = "([0-9]{4})-([0-9]{2})-([0-9]{2})([Tt ]([0-9]{2}):([0-9]{2})(:([0-9]{2})([.,][0-9]+)?)?([Zz]|([+-])([0-9]{2})(:?([0-9]{2}))?)?)?";
in
t:
let
  g = match re t;
  at = i: elemAt g i;
  numOr0 = s: if s == null then 0 else num s;
  y = num (at 0);
  mo = num (at 1);
  d = num (at 2);
  h = numOr0 (at 4);
  mi = numOr0 (at 5);
  s = numOr0 (at 7);
  sign = if at 10 == "-" then -1 else 1;
  off = sign * (numOr0 (at 11) * 3600 + numOr0 (at 13) * 60);
  days = daysFromCivil y mo d;
  valid = mo >= 1 && mo <= 12 && d >= 1 && civilFromDays days == { inherit d; m = mo; inherit y; }
    && h <= 23 && mi <= 59 && s <= 59 && (at 10 == null || numOr0 (at 11) <= 23 && numOr0 (at 13) <= 59);
  secs = days * 86400 + h * 3600 + mi * 60 + s - off;
  day = fdiv secs 86400;
  rest = secs - day * 86400;
  c = civilFromDays day;
in
if g == null || !valid then t
else "${pad 4 c.y}-${pad 2 c.m}-${pad 2 c.d}T${pad 2 (rest / 3600)}:${pad 2 (rest / 60 - rest / 3600 * 60)}:${pad 2 (rest - rest / 60 * 60)}+00:00"
