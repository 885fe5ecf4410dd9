module github.com/bpfdb/bpfdb

go 1.26

require (
	github.com/cilium/ebpf v0.22.0
	go.yaml.in/yaml/v3 v3.0.6
	golang.org/x/arch v0.30.0
	golang.org/x/sys v0.43.0
	golang.org/x/term v0.42.0
)
