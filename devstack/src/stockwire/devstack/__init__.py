"""The local platform behind make up: broker, database, topics, migrations, supervisor."""
