module github.com/genopt/gen

go 1.26.0
