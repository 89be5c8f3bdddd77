// manifest-gen is not written yet.
package main
