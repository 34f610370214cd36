"""Records of processing (Article 30) for companies and for us (issue 21, records part)."""
