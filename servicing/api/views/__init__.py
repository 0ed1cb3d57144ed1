"""The servicing API views: one module per area, one `APIView` per operation (routes in
`servicing/api/urls.py`)."""
