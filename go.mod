module github.com/bpfdb/bpfdb

go 1.26
