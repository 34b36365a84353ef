package ui

import (
	"fmt"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/veil-photo/veil/vault"
)

// PrintCreated reports the vault that veil init created in dir with cfg,
// and the custodian file written: with jsonOut as one event, else with
// what each file is for and the steps that must follow.
func PrintCreated(w io.Writer, dir string, cfg vault.Config, custodianFile string, jsonOut bool) {
	if jsonOut {
		NewEventLog(w, "").Emit(slog.LevelInfo, "created", slog.String("vault", dir), slog.String("id", cfg.ID),
			slog.Any("recipients", cfg.Recipients), slog.String("custodian_file", custodianFile))
		return
	}
	fmt.Fprintf(w, "created vault %s (id %s)\n", dir, cfg.ID)
	fmt.Fprintf(w, "  %-22s public configuration\n", filepath.Join(dir, "vault.json"))
	fmt.Fprintf(w, "  %-22s public keys for auditors\n", filepath.Join(dir, "auditor.pub"))
	fmt.Fprintf(w, "  %-22s log signer and index key of this host (mode 0600)\n", filepath.Join(dir, "keys")+string(filepath.Separator))
	fmt.Fprintf(w, "originals are encrypted to %d recipient(s):\n", len(cfg.Recipients))
	for i, r := range cfg.Recipients {
		who := "extra recipient"
		if i == 0 {
			who = "custodian"
		}
		fmt.Fprintf(w, "  %s (%s)\n", r, who)
	}
	fmt.Fprintf(w, "wrote the custodian identity to %s (passphrase-protected, mode 0600)\n", custodianFile)
	fmt.Fprintf(w, `
next:
  1. move %[1]s off this host (for example to an encrypted drive in a safe) and
     delete it here; keep the passphrase apart from it. It alone can reverse
     codes and decrypt originals: if it or the passphrase is lost, nobody can;
     if both leak, anyone can.
  2. give %[2]s to your auditors; they pin it with
     'veil verify --vault %[3]s --pub auditor.pub'.
  3. ingest photos: veil ingest --vault %[3]s --out RELEASE INBOX...
`, custodianFile, filepath.Join(dir, "auditor.pub"), dir)
}
