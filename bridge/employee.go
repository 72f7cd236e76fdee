package bridge

import (
	"context"
	"errors"
	"fmt"
)

// EmployeeInstalled records where the bot reaches an employee (Teams told us the app
// was installed). The employee is created if new: enabled in local mode, otherwise
// disabled until an admin enables them.
func (s *Service) EmployeeInstalled(ctx context.Context, in Installation) (Employee, error) {
	var out Employee
	err := s.tx(ctx, func(tx Tx) error {
		e, err := tx.EmployeeByTeamsUser(ctx, in.TenantID, in.TeamsUserID)
		if errors.Is(err, ErrUnknownEmployee) && in.AADObjectID != "" {
			// Added by an admin before they installed the app.
			e, err = tx.EmployeeByAAD(ctx, in.TenantID, in.AADObjectID)
			e.TeamsUserID = in.TeamsUserID
		}
		switch {
		case errors.Is(err, ErrUnknownEmployee):
			e = Employee{ID: NewEmployeeID(), Company: s.company, TenantID: in.TenantID, TeamsUserID: in.TeamsUserID, Enabled: s.autoEnable}
		case err != nil:
			return err
		}
		if in.AADObjectID != "" {
			e.AADObjectID = in.AADObjectID
		}
		if in.Name != "" {
			e.Name = in.Name
		}
		if in.Locale != "" {
			e.Locale = in.Locale
		}
		e.Conversation = in.Conversation
		e.Blocked = false
		if err := tx.SaveEmployee(ctx, e); err != nil {
			return err
		}
		out = e
		return tx.WakeLane(ctx, teamsLane(e.ID))
	})
	return out, err
}

// EmployeeUninstalled forgets the conversation reference; deliveries wait until the
// app is installed again.
func (s *Service) EmployeeUninstalled(ctx context.Context, tenantID, teamsUserID string) error {
	return s.tx(ctx, func(tx Tx) error {
		e, err := tx.EmployeeByTeamsUser(ctx, tenantID, teamsUserID)
		if errors.Is(err, ErrUnknownEmployee) {
			return nil
		}
		if err != nil {
			return err
		}
		e.Conversation = ConversationRef{}
		return tx.SaveEmployee(ctx, e)
	})
}

// EmployeeByTeamsUser finds an employee by their Bot Framework user id.
func (s *Service) EmployeeByTeamsUser(ctx context.Context, tenantID, teamsUserID string) (Employee, error) {
	var e Employee
	err := s.store.Tx(ctx, func(tx Tx) (err error) {
		e, err = tx.EmployeeByTeamsUser(ctx, tenantID, teamsUserID)
		return err
	})
	return e, err
}

// Employee returns an employee by ID.
func (s *Service) Employee(ctx context.Context, id EmployeeID) (Employee, error) {
	var e Employee
	err := s.store.Tx(ctx, func(tx Tx) (err error) {
		e, err = tx.Employee(ctx, id)
		return err
	})
	return e, err
}

// SetEmployeeEnabled enables or disables an employee (admin). Enabling someone the
// bot cannot reach yet enqueues the app's install for them; the service process
// whose Installer is attached (Graph) carries it out, so `multiline admin enable`
// works too.
//
// Disabling means it: the employee leaves every thread (colleagues and the
// consumer get the policy's notices; a thread with nobody left goes back to
// routing), their pending Teams deliveries end, and the pool no longer routes to
// them. Enabling them again restores access, not the old threads.
func (s *Service) SetEmployeeEnabled(ctx context.Context, id EmployeeID, enabled bool) error {
	if !enabled {
		return s.disable(ctx, id)
	}
	if err := s.updateEmployeeThen(ctx, id, func(e *Employee) { e.Enabled = true }, func(tx Tx, before, _ Employee) error {
		return s.captureAdmin(ctx, tx, "employee", "enable", string(id), before.Enabled, true)
	}); err != nil {
		return err
	}
	return s.tx(ctx, func(tx Tx) error {
		e, err := tx.Employee(ctx, id)
		if err != nil || e.Conversation.ConversationID != "" || e.AADObjectID == "" {
			return err
		}
		return s.enqueue(ctx, tx, teamsLane(id), JobInstall, installJob{Employee: id}, s.now())
	})
}

// AddEmployee lets an admin add a person from the directory (Entra object id)
// before they ever opened Teams; they are enabled, and the app is installed for
// them when an Installer is attached.
func (s *Service) AddEmployee(ctx context.Context, tenantID, aadObjectID, name string) (Employee, error) {
	var out Employee
	err := s.tx(ctx, func(tx Tx) error {
		e, err := tx.EmployeeByAAD(ctx, tenantID, aadObjectID)
		if errors.Is(err, ErrUnknownEmployee) {
			e, err = Employee{ID: NewEmployeeID(), Company: s.company, TenantID: tenantID, AADObjectID: aadObjectID, Name: name}, nil
		}
		if err != nil {
			return err
		}
		out = e
		return tx.SaveEmployee(ctx, e)
	})
	if err != nil {
		return out, err
	}
	if err := s.SetEmployeeEnabled(ctx, out.ID, true); err != nil {
		return out, err
	}
	return s.Employee(ctx, out.ID)
}

// SetContactLink stores an employee's personal contact link and its scene.
func (s *Service) SetContactLink(ctx context.Context, id EmployeeID, scene, link string) error {
	return s.updateEmployee(ctx, id, func(e *Employee) { e.ContactScene, e.ContactLink = scene, link })
}

// EmployeeInteracted clears an unreachable mark: Teams lets the bot write again
// once the employee has written to it. Waiting deliveries go out now.
func (s *Service) EmployeeInteracted(ctx context.Context, id EmployeeID) error {
	return s.updateEmployee(ctx, id, func(e *Employee) { e.Blocked, e.BlockedReason = false, "" })
}

// MarkUnreachable records that Teams refuses deliveries to the employee.
func (s *Service) MarkUnreachable(ctx context.Context, id EmployeeID, reason string) error {
	return s.updateEmployee(ctx, id, func(e *Employee) { e.Blocked, e.BlockedReason = true, reason })
}

// UpdateConversation stores a re-created 1:1 conversation.
func (s *Service) UpdateConversation(ctx context.Context, id EmployeeID, ref ConversationRef) error {
	return s.updateEmployee(ctx, id, func(e *Employee) { e.Conversation = ref })
}

// SetFocus remembers the thread that the employee's plain text in the bot chat goes to.
func (s *Service) SetFocus(ctx context.Context, id EmployeeID, t ThreadID) error {
	return s.updateEmployee(ctx, id, func(e *Employee) { e.Focus = t })
}

func (s *Service) updateEmployee(ctx context.Context, id EmployeeID, change func(*Employee)) error {
	return s.updateEmployeeThen(ctx, id, change, nil)
}

// updateEmployeeThen is updateEmployee that also runs then (if not nil) in the
// same transaction, after the employee is saved and before any job is touched.
func (s *Service) updateEmployeeThen(ctx context.Context, id EmployeeID, change func(*Employee), then func(tx Tx, before, after Employee) error) error {
	return s.tx(ctx, func(tx Tx) error {
		e, err := tx.Employee(ctx, id)
		if err != nil {
			return err
		}
		before := e
		change(&e)
		if err := tx.SaveEmployee(ctx, e); err != nil {
			return err
		}
		if then != nil {
			if err := then(tx, before, e); err != nil {
				return err
			}
		}
		// Waiting deliveries go out as soon as Teams can take them again.
		if !e.Blocked && (before.Blocked || before.Conversation != e.Conversation) {
			return tx.WakeLane(ctx, teamsLane(e.ID))
		}
		return nil
	})
}

// enabledEmployee checks that e may use WeChat and returns their company.
func (s *Service) enabledEmployee(ctx context.Context, tx Tx, e EmployeeID) (Company, error) {
	emp, err := tx.Employee(ctx, e)
	if err != nil {
		return Company{}, err
	}
	if !emp.Enabled {
		return Company{}, ErrEmployeeDisabled
	}
	return tx.Company(ctx, s.company)
}

// employeeEvent applies an employee's event to a thread they may see.
func (s *Service) employeeEvent(ctx context.Context, e EmployeeID, t ThreadID, ev Event) ([]Action, error) {
	return s.employeeEvents(ctx, e, t, ev)
}

// employeeEvents applies an employee's events to a thread in one transaction:
// all of them happen, or none.
func (s *Service) employeeEvents(ctx context.Context, e EmployeeID, t ThreadID, evs ...Event) ([]Action, error) {
	var acts []Action
	err := s.tx(ctx, func(tx Tx) error {
		acts = nil
		c, err := s.enabledEmployee(ctx, tx, e)
		if err != nil {
			return err
		}
		rec, err := tx.LoadThread(ctx, t)
		if err != nil {
			return err
		}
		now := s.now()
		for _, ev := range evs {
			a, err := s.applyActs(ctx, tx, c, &rec, ev, now)
			if err != nil {
				return err
			}
			acts = append(acts, a...)
		}
		return nil
	})
	return acts, err
}

// CanSend reports whether the company's WeChat account can send body; a refusal
// wraps ErrUnsupportedContent and says why. The tab asks before it stores an upload.
func (s *Service) CanSend(body Content) error {
	if body.MediaRef == "" && body.MediaKind == "" || s.wechat == nil {
		return nil
	}
	return s.wechat.CanSend(body)
}

// Send accepts an employee's message for a thread. The message is sent, queued or
// marked not queued according to the policy; the returned view says which.
//
// A caption sent with media reaches the consumer as its own text message after
// the media, and counts as a send; both are decided in one transaction. Media the
// WeChat account cannot send is refused before anything is queued.
func (s *Service) Send(ctx context.Context, e EmployeeID, t ThreadID, body Content) (MessageView, error) {
	if err := s.CanSend(body); err != nil {
		return MessageView{}, err
	}
	events := []Event{EmployeeSend{Employee: e, Body: body}}
	if body.MediaRef != "" && body.Text != "" {
		if len(body.Text) > MaxTextBytes {
			return MessageView{}, ErrMessageTooLong
		}
		media, caption := body, Content{Text: body.Text}
		media.Text = ""
		events = []Event{EmployeeSend{Employee: e, Body: media}, EmployeeSend{Employee: e, Body: caption}}
	}
	acts, err := s.employeeEvents(ctx, e, t, events...)
	if err != nil {
		return MessageView{}, err
	}
	var id MessageID
	for _, a := range acts {
		if r, ok := a.(RecordMessage); ok && r.From == FromEmployee && id == "" {
			id = r.Message // the first: the media when a caption followed it
		}
	}
	var v MessageView
	err = s.store.Tx(ctx, func(tx Tx) error {
		m, err := tx.Message(ctx, id)
		if err != nil {
			return err
		}
		v, err = s.view(ctx, tx, m)
		return err
	})
	return v, err
}

// Leave takes the employee out of the thread; both sides are told.
func (s *Service) Leave(ctx context.Context, e EmployeeID, t ThreadID) error {
	_, err := s.employeeEvent(ctx, e, t, EmployeeLeave{Employee: e})
	return err
}

// AddParticipant adds a colleague to the thread (by must be in it).
func (s *Service) AddParticipant(ctx context.Context, by EmployeeID, t ThreadID, colleague EmployeeID) error {
	_, err := s.employeeEvent(ctx, by, t, ParticipantAdded{Employee: colleague, By: by})
	return err
}

// RemoveParticipant removes a colleague from the thread (by must be in it).
func (s *Service) RemoveParticipant(ctx context.Context, by EmployeeID, t ThreadID, colleague EmployeeID) error {
	_, err := s.employeeEvent(ctx, by, t, ParticipantRemoved{Employee: colleague, By: by})
	return err
}

// RequestOptIn starts a thread with a consumer who has not written yet. The link
// that brings them in is created by a job and appears on the thread.
func (s *Service) RequestOptIn(ctx context.Context, e EmployeeID) (ThreadID, error) {
	id := NewThreadID()
	err := s.tx(ctx, func(tx Tx) error {
		c, err := s.enabledEmployee(ctx, tx, e)
		if err != nil {
			return err
		}
		rec := ThreadRecord{Thread: Thread{ID: id}, Company: s.company, Account: s.account, OptInScene: "t" + string(id)}
		return s.applyTo(ctx, tx, c, &rec, OptInRequested{Employee: e}, s.now())
	})
	return id, err
}

// ContactLinkFor returns the employee's personal WeChat contact link, creating it on
// first use: a consumer who comes in through it is routed to this employee.
func (s *Service) ContactLinkFor(ctx context.Context, id EmployeeID) (string, error) {
	e, err := s.Employee(ctx, id)
	if err != nil || e.ContactLink != "" {
		return e.ContactLink, err
	}
	scene := "e" + string(e.ID)
	link, err := s.wechat.ContactLink(ctx, s.account, scene, "")
	if err != nil {
		return "", err
	}
	return link, s.SetContactLink(ctx, id, scene, link)
}

// EmployeeByAAD finds an employee by Entra tenant and object id (the tab's sign-in).
func (s *Service) EmployeeByAAD(ctx context.Context, tenantID, aadObjectID string) (Employee, error) {
	var e Employee
	err := s.store.Tx(ctx, func(tx Tx) (err error) {
		e, err = tx.EmployeeByAAD(ctx, tenantID, aadObjectID)
		return err
	})
	return e, err
}

// Employees lists the company's employees (admin page, colleague picker).
func (s *Service) Employees(ctx context.Context) ([]Employee, error) {
	var out []Employee
	err := s.store.Tx(ctx, func(tx Tx) (err error) {
		out, err = tx.Employees(ctx, s.company)
		return err
	})
	return out, err
}

// CompanySettings returns the company with its policy and notice overrides.
func (s *Service) CompanySettings(ctx context.Context) (Company, error) {
	var c Company
	err := s.store.Tx(ctx, func(tx Tx) (err error) {
		c, err = tx.Company(ctx, s.company)
		return err
	})
	return c, err
}

func (s *Service) disable(ctx context.Context, id EmployeeID) error {
	return s.tx(ctx, func(tx Tx) error {
		e, err := tx.Employee(ctx, id)
		if err != nil {
			return err
		}
		c, err := tx.Company(ctx, s.company)
		if err != nil {
			return err
		}
		threads, err := tx.ThreadsOf(ctx, id)
		if err != nil {
			return err
		}
		now := s.now()
		for _, r := range threads {
			rec, err := tx.LoadThread(ctx, r.ID)
			if err != nil {
				return err
			}
			if !rec.IsParticipant(id) {
				continue
			}
			if err := s.applyTo(ctx, tx, c, &rec, EmployeeLeave{Employee: id}, now); err != nil {
				return fmt.Errorf("bridge: disable %s: leave %s: %w", id, rec.ID, err)
			}
		}
		was := e.Enabled
		e.Enabled, e.Focus = false, ""
		if err := tx.SaveEmployee(ctx, e); err != nil {
			return err
		}
		if err := s.captureAdmin(ctx, tx, "employee", "disable", string(id), was, false); err != nil {
			return err
		}
		// Deliveries already decided (and the notices of the leaves above) are not
		// for someone who may no longer use WeChat; the tab shows them nothing.
		return tx.CancelLanes(ctx, teamsLane(id))
	})
}
