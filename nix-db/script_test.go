package main

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/testkit"
)

var tool = testkit.Tool{Name: "nix-db", Manual: manual, New: func() cli.Runner { return &command{} },
	Scripts: testkit.Scripts{Cmds: []testkit.Cmds{{"db-dump": cmdDBDump, "sqlite-exec": cmdSQLiteExec}}},
	UsageErrors: [][]string{{"--gc-root", "x"}, {"-o", "root", "--registration-time=-1"}, {"-o", "root", "--store-dir", "store"},
		{"--check", "-o", "root"}, {"--layer", "layer.tar", "-o", "root"}, {"--check", "--holds", "p.json", "--holds-label=a", "--holds-label=b"}}}

func TestMain(m *testing.M)                   { tool.Main(m) }
func TestScripts(t *testing.T)                { tool.Scripts.Run(t) }
func TestUsageErrorsReadNoInput(t *testing.T) { tool.UsageErrorsReadNoInput(t) }

// cmdDBDump prints a Nix database as text, for cmp:
//
//	db-dump FILE
//
// the header fields that could vary (page size, journal mode as the
// header's read/write versions: 1 rollback, 2 WAL), the schema as
// sqlite_schema holds it, then every row of ValidPaths, Refs (as paths)
// and DerivationOutputs, NULL spelt as such.
func cmdDBDump(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: db-dump FILE")
	}
	var out strings.Builder
	ts.Check(dumpDB(ts.MkAbs(args[0]), &out))
	fmt.Fprint(ts.Stdout(), out.String())
}

func dumpDB(file string, out *strings.Builder) error {
	db, err := sql.Open("sqlite", "file:"+file+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	for _, q := range []string{
		"PRAGMA page_size",
		"PRAGMA journal_mode",
		"SELECT type, name, tbl_name, rootpage, sql FROM sqlite_schema",
		"SELECT * FROM ValidPaths ORDER BY id",
		"SELECT a.path, b.path FROM Refs JOIN ValidPaths a ON a.id = referrer JOIN ValidPaths b ON b.id = reference ORDER BY referrer, reference",
		"SELECT * FROM DerivationOutputs ORDER BY drv, id",
	} {
		fmt.Fprintf(out, "-- %s\n", q)
		if err := dumpQuery(db, q, out); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

func dumpQuery(db *sql.DB, q string, out *strings.Builder) error {
	rows, err := db.Query(q)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		fields := make([]string, len(vals))
		for i, v := range vals {
			switch v := v.(type) {
			case nil:
				fields[i] = "NULL"
			case []byte:
				fields[i] = string(v)
			default:
				fields[i] = fmt.Sprint(v)
			}
		}
		fmt.Fprintln(out, strings.Join(fields, "|"))
	}
	return rows.Err()
}

// cmdSQLiteExec runs SQL statements on a database file, making it if
// need be (a crafted database for --layer):
//
//	sqlite-exec FILE SQL
func cmdSQLiteExec(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: sqlite-exec FILE SQL")
	}
	db, err := sql.Open("sqlite", "file:"+ts.MkAbs(args[0]))
	ts.Check(err)
	defer db.Close()
	_, err = db.Exec(args[1])
	ts.Check(err)
}
