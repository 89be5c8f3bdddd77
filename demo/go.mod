module dockertools.dev/demo

go 1.26
