// tar-merge is not written yet.
package main
