"""The outcome store: schema, engines, migrations and the queries the receiver answers with."""
