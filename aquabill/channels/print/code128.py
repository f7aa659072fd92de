"""Code 128 (ISO/IEC 15417) for the cash-desk barcode of a receipt (pure: no I/O).

What the barcode of a receipt carries (`receipt_barcode`), 26 digits, all in subset C (two digits a symbol):

    AAAAAAAAAAAA  PPPP  SSSSSSSSSS
    account       MMYY  sum to pay in kopecks
    12 digits,    the   10 digits,
    zero-padded   month zero-padded

e.g. account 00100123, May 2026, 3 540,00 ₽ → `000000100123` `0526` `0000354000`. An account number that is not
all digits, or longer than 12, gets no barcode (the QR code still carries it).

`encode` picks the subsets: C for digit pairs, B for the rest (ASCII 32–126); `modules` gives the widths of
bars and spaces, starting with a bar, from the start symbol to the stop pattern (quiet zones not included).
"""

from __future__ import annotations

from decimal import Decimal

# bar/space widths of the symbol values 0..106 (106: the stop pattern, 7 elements)
PATTERNS = (
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212", "221213",
    "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221", "223211", "221132",
    "221231", "213212", "223112", "312131", "311222", "321122", "321221", "312212", "322112", "322211",
    "212123", "212321", "232121", "111323", "131123", "131321", "112313", "132113", "132311", "211313",
    "231113", "231311", "112133", "112331", "132131", "113123", "113321", "133121", "313121", "211331",
    "231131", "213113", "213311", "213131", "311123", "311321", "331121", "312113", "312311", "332111",
    "314111", "221411", "431111", "111224", "111422", "121124", "121421", "141122", "141221", "112214",
    "112412", "122114", "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111",
    "111242", "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
    "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311", "113141",
    "114131", "311141", "411131", "211412", "211214", "211232", "2331112",
)
START_B, START_C, CODE_B, CODE_C, STOP = 104, 105, 100, 99, 106
ACCOUNT_DIGITS, SUM_DIGITS = 12, 10


class Code128Error(ValueError):
    pass


def _digit_run(data: str, i: int) -> int:
    n = i
    while n < len(data) and data[n].isdigit() and data[n].isascii():
        n += 1
    return n - i


def encode(data: str) -> list[int]:
    """The symbol values from the start symbol to the check symbol (the stop pattern not included)."""
    if not data:
        raise Code128Error("пустые данные штрихкода")
    bad = [c for c in data if not 32 <= ord(c) <= 126]
    if bad:
        raise Code128Error(f"символ «{bad[0]}» не кодируется в Code 128 (B/C)")
    values: list[int] = []
    subset = ""
    i = 0
    while i < len(data):
        run = _digit_run(data, i)
        # subset C pays off for 4+ digits, or for all-digit data of 2 or 3
        if run >= 4 or (run >= 2 and i == 0 and run == len(data)):
            pairs = run // 2
            if subset != "C":
                values.append(START_C if not values else CODE_C)
                subset = "C"
            values.extend(int(data[i + 2 * k: i + 2 * k + 2]) for k in range(pairs))
            i += 2 * pairs
            continue
        if subset != "B":
            values.append(START_B if not values else CODE_B)
            subset = "B"
        values.append(ord(data[i]) - 32)
        i += 1
    check = (values[0] + sum(k * v for k, v in enumerate(values[1:], start=1))) % 103
    return [*values, check]


def modules(data: str) -> list[int]:
    """Widths (in modules) of alternating bars and spaces, first a bar, start to stop."""
    return [int(w) for v in (*encode(data), STOP) for w in PATTERNS[v]]


def bars(data: str) -> list[tuple[int, int]]:
    """The bars as (offset, width) in modules."""
    out: list[tuple[int, int]] = []
    x = 0
    for k, w in enumerate(modules(data)):
        if k % 2 == 0:
            out.append((x, w))
        x += w
    return out


def width(data: str) -> int:
    return sum(modules(data))


def receipt_barcode(account_number: str, month: int, year: int, due: Decimal) -> str | None:
    """The digits of a receipt's barcode (layout above), or None when the account number does not fit it."""
    number = account_number.strip()
    kopecks = int(due * 100)
    if not (number.isascii() and number.isdigit()) or len(number) > ACCOUNT_DIGITS:
        return None
    if kopecks < 0 or kopecks >= 10 ** SUM_DIGITS:
        return None
    return f"{number:0>{ACCOUNT_DIGITS}}{month:02d}{year % 100:02d}{kopecks:0{SUM_DIGITS}d}"
