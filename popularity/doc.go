// popularity is not written yet.
package main
