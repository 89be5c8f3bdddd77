// closure-scan is not written yet.
package main
