package main

import (
	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/schema"
)

// declarationCmd groups the subcommands that work on a bevallas.xml.
var declarationCmd = &cli.Command{
	Name:    "declaration",
	Summary: "bevallás importálása, előállítása, ellenőrzése, megjelenítése / import, generate, validate and show a declaration",
	Help:    "A tagdíjbevallással (bevallas.xml) dolgozó parancsok. / Commands working on a declaration (bevallas.xml).",
	Sub:     []*cli.Command{declarationImportCmd, declarationGenerateCmd, declarationValidateCmd, declarationShowCmd},
}

// loadSchemas compiles the embedded schemas under the parser's default limits.
func loadSchemas() (*schema.Set, error) { return schema.Load(libxml.Parser{}) }

// maxDeclarationBytes is the largest file the declaration commands read: the hardened parser's limit.
var maxDeclarationBytes = libxml.DefaultLimits().MaxBytes
