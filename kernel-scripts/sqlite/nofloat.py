#!/usr/bin/env python3
"""Edits a pristine SQLite amalgamation so it builds with SQLITE_OMIT_FLOATING_POINT inside the kernel.

The kernel compiles with -mgeneral-regs-only: any floating literal or double arithmetic left in sqlite3.c is
a compile error ("SSE register return with SSE disabled"). With OMIT_FLOATING_POINT, sqlite3.h maps
`double` to sqlite3_int64, so what remains are floating *literals* and a few no-float branches that do not
compile as shipped. Each edit below names the spot; a spot that is not found exactly once stops the script,
so a new SQLite version fails loudly here instead of somewhere in the kernel build.

usage: nofloat.py IN.c OUT.c
(kernel-scripts/published/reconstruct.py imports `edit` for SQLite 3.45.1.)
"""
import sys

# Whole functions replaced by integer-only bodies: (signature line, new function).
FUNCTIONS = [
    # sqlite3FpDecode splits an IEEE double into decimal digits; without floats the value is an exact
    # 64-bit integer, so its digits are the decimal digits of the integer and no rounding is needed.
    (
        "SQLITE_PRIVATE void sqlite3FpDecode(FpDecode *p, double r, int iRound, int mxRound){",
        """SQLITE_PRIVATE void sqlite3FpDecode(FpDecode *p, double r, int iRound, int mxRound){
  u64 v;
  int i = (int)sizeof(p->zBuf) - 1;
  (void)iRound;
  (void)mxRound;
  p->isSpecial = 0;
  if( r==0 ){
    p->sign = '+';
    p->n = 1;
    p->iDP = 1;
    p->z = "0";
    return;
  }
  p->sign = r<0 ? '-' : '+';
  v = r<0 ? (u64)0 - (u64)r : (u64)r;
  while( v ){
    p->zBuf[i--] = (char)('0' + v%10);
    v /= 10;
  }
  p->z = &p->zBuf[i+1];
  p->n = (int)sizeof(p->zBuf) - 1 - i;
  p->iDP = p->n;
}""",
    ),
    # sqlite3IntFloatCompare: both sides are 64-bit integers.
    (
        "SQLITE_PRIVATE int sqlite3IntFloatCompare(i64 i, double r){",
        """SQLITE_PRIVATE int sqlite3IntFloatCompare(i64 i, double r){
  return i<r ? -1 : i>r;
}""",
    ),
    # exprProbability (likelihood()'s second argument) is a fraction: without floats none is valid.
    (
        "static int exprProbability(Expr *p){",
        """static int exprProbability(Expr *p){
  (void)p;
  return -1;
}""",
    ),
]

# (old, new) pairs, or (old, new, fine): `fine` is the text of a version that needs no edit there.
EDITS = [
    # sqlite3AtoF: the no-float branch uses a stale parameter name (z for zIn); 3.45's compiles.
    (
        "  return sqlite3Atoi64(z, pResult, strlen(z), SQLITE_UTF8)==0;",
        "  return sqlite3Atoi64(zIn, pResult, strlen(zIn), SQLITE_UTF8)==0;",
        "  return !sqlite3Atoi64(z, pResult, length, enc);\n#endif /* SQLITE_OMIT_FLOATING_POINT */",
    ),
    # sqlite3RealToI64: the clamps are floating literals; without floats r already is an i64.
    (
        "SQLITE_PRIVATE i64 sqlite3RealToI64(double r){\n"
        "  if( r<-9223372036854774784.0 ) return SMALLEST_INT64;\n"
        "  if( r>+9223372036854774784.0 ) return LARGEST_INT64;\n"
        "  return (i64)r;\n}",
        "SQLITE_PRIVATE i64 sqlite3RealToI64(double r){\n  return (i64)r;\n}",
    ),
    # sqlite3RealSameAsInt: a "real" is an integer, so it is the same as i exactly when equal.
    (
        "  double r2 = (double)i;\n  return r1==0.0\n      || (memcmp(&r1, &r2, sizeof(r1))==0\n          && i >= -2251799813685248LL && i < 2251799813685248LL);",
        "  return r1==i;",
    ),
    # sqlite3VdbeBooleanValue: compare with an integer zero.
    ("  return sqlite3VdbeRealValue(pMem)!=0.0;\n}", "  return sqlite3VdbeRealValue(pMem)!=0;\n}"),
    # signFunc (the sign() SQL function).
    ("  sqlite3_result_int(context, x<0.0 ? -1 : x>0.0 ? +1 : 0);", "  sqlite3_result_int(context, x<0 ? -1 : x>0 ? +1 : 0);"),
    # sqlite3OsCurrentTimeInt64 for a version-1 VFS (ours is version 2 and never takes this path).
    ("    *pTimeOut = (sqlite3_int64)(r*86400000.0);", "    *pTimeOut = (sqlite3_int64)(r*86400000);"),
]


class EditError(Exception):
    pass


def replace_function(src: str, sig: str, new: str, name: str) -> str:
    """`src` with the function whose first line is `sig` (to its closing brace at the start of a line)
    replaced by `new`; EditError if `sig` is not found exactly once."""
    if src.count(sig) != 1:
        raise EditError(f"function '{sig}' expected once in {name}, found {src.count(sig)}")
    start = src.index(sig)
    end = src.index("\n}\n", start) + 2
    return src[:start] + new + src[end:]


def edit(src: str, name: str) -> str:
    """The amalgamation `src` (called `name` in messages) with every edit made; EditError names a spot
    that is not found exactly once."""
    for sig, new in FUNCTIONS:
        src = replace_function(src, sig, new, name)
    for i, (old, new, *fine) in enumerate(EDITS, 1):
        n = src.count(old)
        if n == 0 and fine and src.count(fine[0]) == 1:
            continue
        if n != 1:
            raise EditError(f"edit {i} expects its text exactly once in {name}, found {n}:\n{old[:200]}")
        src = src.replace(old, new)
    return src


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-2], file=sys.stderr)
        return 2
    try:
        src = edit(open(sys.argv[1], encoding="utf-8").read(), sys.argv[1])
    except EditError as e:
        print(f"nofloat.py: {e}", file=sys.stderr)
        return 1
    open(sys.argv[2], "w", encoding="utf-8").write(src)
    return 0


if __name__ == "__main__":
    sys.exit(main())
