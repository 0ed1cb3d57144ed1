"""LendCore's finance kernel: pure-Python money math on Decimal, Fraction and date.

No Django, no I/O. ``money`` holds the one rounding function; ``daycount`` the day-count
bases; ``apr`` Regulation Z Appendix J; ``tvm`` numpy-financial-style functions in
Decimal; ``schedule`` repayment schedules; ``accrual`` daily simple interest.
"""
