module dockertools.dev/testdata

go 1.26

replace dockertools.dev/imgkit => ../imgkit
