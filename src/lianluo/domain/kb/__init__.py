"""Knowledge-base search: tokeniser (jieba for Chinese), BM25 ranking and highlight snippets.

Pure functions: the repository stores what `analyze` returns and ranks with `bm25_scores`, so
SQLite and PostgreSQL rank alike.
"""
