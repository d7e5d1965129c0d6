"""Knowledge base (知识库): bilingual articles with versions and a review workflow, community
articles by super users, feedback, BM25 search with Chinese segmentation, suggestions."""
