// This folder holds a Node.js test harness, not Go code. Being a module of its own keeps
// the Go packages that some npm packages ship in node_modules out of ./... patterns.
module tacit.test/aptest
