// Command bench is the benchmark harness behind `make bench`. Not written yet.
package main

func main() {}
