"""The local platform behind make up: embedded broker and database, topics, migrations, supervisor."""
