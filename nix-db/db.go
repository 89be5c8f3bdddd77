package main

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"

	_ "modernc.org/sqlite" // the "sqlite" driver: pure Go, so the tool stays one static binary
)

// schema is Nix's schema.sql (version 10, unchanged from Nix 2.0 to
// today), its statements as SQLite stores them in sqlite_schema:
// "create table if not exists" is stored as "CREATE TABLE", so that is
// what is written, and `sqlite3 db.sqlite .schema` prints the same text
// for this database as for one Nix made.
//
//go:embed schema.sql
var schema string

// schemaVersion is what Nix writes to nix/var/nix/db/schema.
const schemaVersion = "10"

// buildDB builds the database of rows in memory (SQLite's memdb: a name
// without a leading / is private to its connection) and returns the
// bytes SQLite would have written to its file: the same bytes as a file
// database, the header included. Not in a file below TMPDIR: SQLite
// opens no file whose name is longer than 512 bytes, and a TMPDIR may be
// that long, or missing (repro_tmpdir_any). Everything that could differ
// between two runs is pinned: the page size, the journal mode (DELETE:
// no WAL, and the header says so), the insertion order (rows sorted by
// path get ids 1 to n, as nix-store --load-db gives them, references
// sorted), the registration time, and one transaction for all of it.
// Nothing is ever deleted, so the file has no free pages and its page
// layout follows from the rows alone; a VACUUM would add nothing but
// reorder sqlite_schema (tables before indexes), away from the order Nix
// creates them in.
func buildDB(ctx context.Context, rows []row, regTime int64) ([]byte, error) {
	db, err := sql.Open("sqlite", "file:db.sqlite?vfs=memdb")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one connection: the pragmas hold for every statement
	for _, stmt := range []string{
		"PRAGMA page_size = 4096",
		"PRAGMA journal_mode = DELETE",
		"PRAGMA auto_vacuum = NONE",
		"PRAGMA encoding = 'UTF-8'",
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return nil, fmt.Errorf("%s: %w", stmt, err)
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return nil, fmt.Errorf("creating Nix's schema: %w", err)
	}
	ids := make(map[string]int64, len(rows))
	insert, err := tx.PrepareContext(ctx, "INSERT INTO ValidPaths (path, hash, registrationTime, narSize) VALUES (?, ?, ?, ?)")
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		res, err := insert.ExecContext(ctx, r.path, r.hash, regTime, int64(r.narSize))
		if err != nil {
			return nil, fmt.Errorf("registering %q: %w", r.path, err)
		}
		if ids[r.path], err = res.LastInsertId(); err != nil {
			return nil, err
		}
	}
	ref, err := tx.PrepareContext(ctx, "INSERT INTO Refs (referrer, reference) VALUES (?, ?)")
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		for _, p := range r.refs {
			if _, err := ref.ExecContext(ctx, ids[r.path], ids[p]); err != nil {
				return nil, fmt.Errorf("registering the reference of %q to %q: %w", r.path, p, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return serialize(ctx, db)
}

// serialize returns the bytes of db's main database: what SQLite would
// have written to its file.
func serialize(ctx context.Context, db *sql.DB) (data []byte, err error) {
	c, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	err = c.Raw(func(dc any) error {
		s, ok := dc.(interface{ Serialize() ([]byte, error) })
		if !ok {
			return fmt.Errorf("the sqlite driver cannot serialize a database")
		}
		data, err = s.Serialize()
		return err
	})
	return data, err
}
