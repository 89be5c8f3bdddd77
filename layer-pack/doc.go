// layer-pack is not written yet.
package main
