"""Server-rendered HTML for the public: small pages, no templates engine, no external assets."""
