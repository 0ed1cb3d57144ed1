"""Origination's pages: the staff UI (`staff`) and the borrower portal (`portal`)."""
