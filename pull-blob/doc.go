// pull-blob is not written yet.
package main
