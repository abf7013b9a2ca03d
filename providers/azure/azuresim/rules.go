package azuresim

import "fmt"

// Fault rules are the simulator's admin surface for rehearsals: unlike
// InjectFault (in memory, for tests in one process) they are kept in the
// world's state file, so that `cutover sim fault add` in one process arms a
// fault that the apply in another process meets on its next request. They
// match and count down exactly like injected faults.

// AddRule arms a fault rule in the world.
func (s *Sim) AddRule(f Fault) error {
	return s.editRules(func(rules []*Fault) ([]*Fault, error) {
		c := f
		return append(rules, &c), nil
	})
}

// Rules returns the armed fault rules.
func (s *Sim) Rules() ([]Fault, error) {
	var out []Fault
	err := s.editRules(func(rules []*Fault) ([]*Fault, error) {
		for _, r := range rules {
			out = append(out, *r)
		}
		return rules, nil
	})
	return out, err
}

// ClearRules removes the fault rules for vm (every rule when vm is empty)
// and returns how many it removed.
func (s *Sim) ClearRules(vm string) (int, error) {
	n := 0
	err := s.editRules(func(rules []*Fault) ([]*Fault, error) {
		kept := rules[:0]
		for _, r := range rules {
			if vm == "" || r.VM == vm {
				n++
				continue
			}
			kept = append(kept, r)
		}
		return kept, nil
	})
	return n, err
}

func (s *Sim) editRules(edit func([]*Fault) ([]*Fault, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	unlock, err := s.lockFile()
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.syncLocked(); err != nil {
		return fmt.Errorf("azuresim: reading the world: %w", err)
	}
	before := len(s.w.Rules)
	rules, err := edit(s.w.Rules)
	if err != nil {
		return err
	}
	changed := len(rules) != before
	s.w.Rules = rules
	if !changed {
		return nil
	}
	return s.persistLocked()
}
