package graph

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/multiline/multiline/internal/testenv"
)

// TestSDKConfinedToGraph fails when a package outside graph/ imports the
// Graph SDK or its Kiota runtime directly.
func TestSDKConfinedToGraph(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go tool not found: %v", err)
	}
	root := testenv.Root(t)
	// -e: a neighbour's package that does not compile right now must not
	// hide the imports of the others.
	cmd := exec.Command(goBin, "list", "-e", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}{{range .TestImports}} {{.}}{{end}}{{range .XTestImports}} {{.}}{{end}}`, "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const self = "github.com/multiline/multiline/graph"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] == self || strings.HasPrefix(fields[0], self+"/") {
			continue
		}
		for _, imp := range fields[1:] {
			if strings.HasPrefix(imp, "github.com/microsoftgraph/") || strings.HasPrefix(imp, "github.com/microsoft/kiota-") {
				t.Errorf("%s imports %s: only graph/ may use the Graph SDK; call graph.Client instead", fields[0], imp)
			}
		}
	}
}
