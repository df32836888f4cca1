"""Full-text index of community posts: FTS5 on SQLite, a generated tsvector with GIN on PostgreSQL.

Each database gets only its own step; the other one's is skipped. The text is normalised by
kesher.community.textsearch before it reaches either, so both match the same way.
"""

from django.db import migrations

SQLITE_CREATE = [
    """CREATE VIRTUAL TABLE community_search_fts USING fts5(
        head, body, exact,
        content='community_searchdocument', content_rowid='id',
        tokenize='unicode61 remove_diacritics 0'
    )""",
    """CREATE TRIGGER community_search_ai AFTER INSERT ON community_searchdocument BEGIN
        INSERT INTO community_search_fts(rowid, head, body, exact) VALUES (new.id, new.head, new.body, new.exact);
    END""",
    """CREATE TRIGGER community_search_ad AFTER DELETE ON community_searchdocument BEGIN
        INSERT INTO community_search_fts(community_search_fts, rowid, head, body, exact)
        VALUES ('delete', old.id, old.head, old.body, old.exact);
    END""",
    """CREATE TRIGGER community_search_au AFTER UPDATE ON community_searchdocument BEGIN
        INSERT INTO community_search_fts(community_search_fts, rowid, head, body, exact)
        VALUES ('delete', old.id, old.head, old.body, old.exact);
        INSERT INTO community_search_fts(rowid, head, body, exact) VALUES (new.id, new.head, new.body, new.exact);
    END""",
    "INSERT INTO community_search_fts(community_search_fts) VALUES ('rebuild')",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS community_search_au",
    "DROP TRIGGER IF EXISTS community_search_ad",
    "DROP TRIGGER IF EXISTS community_search_ai",
    "DROP TABLE IF EXISTS community_search_fts",
]

# array_to_tsvector takes the already-normalised terms as they are: no parser, no locale in between.
POSTGRES_CREATE = [
    """ALTER TABLE community_searchdocument ADD COLUMN document tsvector GENERATED ALWAYS AS (
        setweight(array_to_tsvector(string_to_array(head, ' ')), 'A')
        || setweight(array_to_tsvector(string_to_array(exact, ' ')), 'B')
        || setweight(array_to_tsvector(string_to_array(body, ' ')), 'C')
    ) STORED""",
    "CREATE INDEX community_search_document ON community_searchdocument USING gin (document)",
]
POSTGRES_DROP = [
    "DROP INDEX IF EXISTS community_search_document",
    "ALTER TABLE community_searchdocument DROP COLUMN IF EXISTS document",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor, [])
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("community", "0001_community_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
        )
    ]
