"""bench_api.py's parts: `seed` (the province and its cases by COPY), `floor` (the bare SQL a
`verify` must write) and `client` (the HTTP clients and their phases)."""
