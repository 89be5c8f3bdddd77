module dockertools.dev/bench

go 1.26

replace dockertools.dev/imgkit => ../imgkit
