package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/tarsafe"
)

// dbFile is the database's path in a layer, relative to its root.
const dbFile = dbDir + "/db.sqlite"

// maxLayerDB bounds the database --layer reads into memory: Nix's
// database of a closure takes a few hundred bytes a path, so 1 GiB is
// millions of paths, past any image.
const maxLayerDB = 1 << 30

// checkLayer reads the Nix database the layer tar --layer holds, if any,
// and checks every path it registers is in a --holds plan: a
// --customisation-layer made elsewhere (the Nix library's) with a
// database, which nix-db did not write for this image's plan. Nothing
// in the layer is followed: a database that is a symlink or hardlink
// entry, or below one, is refused, as is a database Nix would read
// with more than the file (a write-ahead log or a journal beside it).
func (c *command) checkLayer(ctx context.Context, o *cli.IO, held map[string]bool) error {
	data, err := c.layerDB()
	if err != nil {
		return fmt.Errorf("--layer %q: %w", c.Layer, err)
	}
	if data == nil {
		o.Debugf("--layer %q holds no %s: nothing to check", c.Layer, dbFile)
		return nil
	}
	paths, err := registered(ctx, data)
	if err != nil {
		return fmt.Errorf("--layer %q: %s: %w", c.Layer, dbFile, err)
	}
	if held != nil {
		for _, p := range paths {
			if !held[p] {
				return fmt.Errorf("--layer %q: %s registers %q, which is not in the image (%s), and Nix in it would take it as valid: %w", c.Layer, dbFile, p, c.holdsSaid(), errdefs.ErrInvalidInput)
			}
		}
	}
	o.Debugf("checked the %d paths %s in --layer %q registers", len(paths), dbFile, c.Layer)
	return nil
}

// layerDB returns the bytes of the layer's database, the last entry of
// its name as a later one replaces an earlier, or nil when it has none.
func (c *command) layerDB() ([]byte, error) {
	f, err := os.Open(c.Layer)
	if err != nil {
		return nil, cli.PathCause(err)
	}
	defer f.Close()
	tr := tarsafe.NewReader(f, tarsafe.Options{})
	var data []byte
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return nil, err
		}
		e, err := tarsafe.Classify(hdr, tarsafe.Options{AllowDevices: true})
		if err != nil {
			return nil, err
		}
		switch {
		case e.Kind == tarsafe.Ignored:
		case e.Path == dbFile+"-wal" || e.Path == dbFile+"-journal":
			if e.Kind != tarsafe.Regular || hdr.Size > 0 {
				return nil, fmt.Errorf("%s: Nix reads it with the database, and nix-db does not: %w", e.Path, errdefs.ErrInvalidInput)
			}
		case e.Path == dbFile:
			if e.Kind != tarsafe.Regular {
				return nil, fmt.Errorf("%s: a %s, not a file (nothing is followed): %w", e.Path, e.Kind, errdefs.ErrInvalidInput)
			}
			if hdr.Size > maxLayerDB {
				return nil, fmt.Errorf("%s: %d bytes, past the %d nix-db reads: %w", e.Path, hdr.Size, int64(maxLayerDB), errdefs.ErrTooLarge)
			}
			// One buffer of the entry's size (bounded.ReadAll's chunks
			// and their copy held the file twice over while reading:
			// an 84 MB database took 314 MB of RSS); SQLite copies it
			// once more. An earlier entry of the name is dropped first.
			data = nil
			b := make([]byte, hdr.Size)
			if _, err := io.ReadFull(tr, b); err != nil {
				if errors.Is(err, io.ErrUnexpectedEOF) {
					err = fmt.Errorf("truncated in entry %q: %w", e.Path, errdefs.ErrInvalidInput)
				}
				return nil, err
			}
			data = b
		case e.Kind != tarsafe.Dir && strings.HasPrefix(dbFile, e.Path+"/"):
			// The database below a symlink (or a file) is not where
			// it seems.
			return nil, fmt.Errorf("%s: a %s, where the database's directory is (nothing is followed): %w", e.Path, e.Kind, errdefs.ErrInvalidInput)
		}
	}
}

// registered returns the paths a Nix database registers, read from its
// bytes in memory as a crafted file may be: SQLite's defensive mode, no
// expression of the file's schema run (trusted_schema off, plainSchema),
// read only, the whole file checked (quick_check) and ValidPaths'
// indexes against its rows (integrity_check) before it is read.
func registered(ctx context.Context, data []byte) ([]string, error) {
	if !bytes.HasPrefix(data, []byte("SQLite format 3\x00")) {
		return nil, fmt.Errorf("not an SQLite database: %w", errdefs.ErrInvalidInput)
	}
	// Nix's own databases are in WAL mode (header bytes 18 and 19 are
	// 2), which a database in memory cannot open: with no log beside it
	// (layerDB refuses one), the file is the whole database, as in
	// rollback mode (1).
	if len(data) > 19 && data[18] == 2 && data[19] == 2 {
		data[18], data[19] = 1, 1
	}
	db, err := sql.Open("sqlite", "file:layer.sqlite?vfs=memdb&_defensive=true")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		d, ok := dc.(interface{ Deserialize([]byte) error })
		if !ok {
			return errors.New("the sqlite driver cannot deserialize a database")
		}
		return d.Deserialize(data)
	})
	if err != nil {
		return nil, fmt.Errorf("%v: %w", err, errdefs.ErrInvalidInput)
	}
	// No PRAGMA hard_heap_limit: modernc's SQLite keeps no memory
	// statistics (SQLITE_DEFAULT_MEMSTATUS=0), so it bounds nothing (a
	// crafted CHECK took 2 GB of RSS past one of 64 MiB). What bounds
	// memory and time is that no expression of the file is run:
	// plainSchema refuses those that would be, and CHECK constraints,
	// which the checks would run for each row, are not (Nix's schema has
	// none).
	for _, p := range []string{"PRAGMA trusted_schema = OFF", "PRAGMA query_only = ON", "PRAGMA cell_size_check = ON", "PRAGMA ignore_check_constraints = ON"} {
		if _, err := conn.ExecContext(ctx, p); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	if err := plainSchema(ctx, conn); err != nil {
		return nil, err
	}
	// The whole file's structure checked (quick_check), and ValidPaths'
	// indexes against its rows (integrity_check of it): an index of
	// ValidPaths(path) whose entries are not its rows' (nix-db's read
	// takes it, Nix's lookup of a path another) passed quick_check. An
	// integrity_check of the whole file took 1.7 s for a copy of this
	// machine's 24 MB Nix database, these two 0.9 s, quick_check 0.4 s.
	for _, p := range []string{"PRAGMA quick_check(1)", "PRAGMA integrity_check(ValidPaths)"} {
		var check string
		if err := conn.QueryRowContext(ctx, p).Scan(&check); err != nil {
			return nil, fmt.Errorf("%v: %w", err, errdefs.ErrInvalidInput)
		}
		if check != "ok" {
			return nil, fmt.Errorf("malformed: %s: %w", check, errdefs.ErrInvalidInput)
		}
	}
	rows, err := conn.QueryContext(ctx, "SELECT CAST(path AS TEXT) FROM ValidPaths")
	if err != nil {
		return nil, fmt.Errorf("reading ValidPaths: %v: %w", err, errdefs.ErrInvalidInput)
	}
	defer rows.Close()
	var paths []string
	for rows.Next() {
		var p sql.NullString
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("reading ValidPaths: %v: %w", err, errdefs.ErrInvalidInput)
		}
		paths = append(paths, p.String)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading ValidPaths: %v: %w", err, errdefs.ErrInvalidInput)
	}
	return paths, nil
}

// plainSchema refuses a schema that would run an expression of the file
// for each row in the checks or the read, which Nix's has none
// of: a generated column, an index on an expression or with a WHERE
// (50 rows each running hex(zeroblob(20000000)) took 2.8 s; a file of
// a few MB holds 100,000 rows).
// ValidPaths must be a table, not a view or a virtual table, whose
// module reads the file's own structures as it likes.
func plainSchema(ctx context.Context, conn *sql.Conn) error {
	var sqlText string
	switch err := conn.QueryRowContext(ctx, "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'ValidPaths'").Scan(&sqlText); {
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%v: %w", err, errdefs.ErrInvalidInput)
	case err != nil || !strings.HasPrefix(strings.ToUpper(sqlText), "CREATE TABLE"):
		return fmt.Errorf("no ValidPaths table: not Nix's database: %w", errdefs.ErrInvalidInput)
	}
	checks := []struct{ query, what string }{
		{"SELECT s.name FROM sqlite_schema s, pragma_table_xinfo(s.name) x WHERE s.type = 'table' AND s.sql NOT LIKE 'CREATE VIRTUAL%' AND x.hidden IN (2, 3)", "has a generated column"},
		{"SELECT s.name FROM sqlite_schema s, pragma_index_list(s.name) l WHERE s.type = 'table' AND s.sql NOT LIKE 'CREATE VIRTUAL%' AND l.partial", "has a partial index"},
		{"SELECT s.name FROM sqlite_schema s, pragma_index_list(s.name) l, pragma_index_xinfo(l.name) x WHERE s.type = 'table' AND s.sql NOT LIKE 'CREATE VIRTUAL%' AND x.cid = -2", "has an index on an expression"},
	}
	for _, c := range checks {
		var table string
		switch err := conn.QueryRowContext(ctx, c.query+" LIMIT 1").Scan(&table); {
		case err == nil:
			return fmt.Errorf("table %q %s: not Nix's database: %w", table, c.what, errdefs.ErrInvalidInput)
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("%v: %w", err, errdefs.ErrInvalidInput)
		}
	}
	return nil
}
