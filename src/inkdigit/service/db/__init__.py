"""The service's database: accounts, history and corrections (SQLAlchemy 2, Alembic migrations).

An embedded SQLite file under ``INKDIGIT_HOME`` by default, so ``inkdigit serve`` needs nothing
else; PostgreSQL (psycopg 3) when ``INKDIGIT_DATABASE_URL`` names one. The engine never imports
this package: what is stored here is what the service was asked and answered.
"""
