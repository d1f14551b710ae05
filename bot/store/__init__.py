"""Storage: the SQLite database (one writer, readers), migrations, families and the rows
every answer leaves (answers, model calls), export and erase of a family."""
