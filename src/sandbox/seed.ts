// A realistic day of activity records for both apps: several service requests, activities that
// send, skip (no CSR code) and fail (a name missing from activity_codes), and text with the
// characters that broke the old script (non-ASCII, markup, ampersands, emoji, line breaks).
import type { ActivityInput } from './knack-records.js'

const ready = 'READY_TO_SEND'

/** The same records on every call: ids count up from 1 in each day. */
export function sandboxDay(): Record<string, ActivityInput[]> {
  let n = 0
  const id = () => `5f1c0de${(++n).toString(16).padStart(17, '0')}`
  return {
    'data-tracker': [
      { id: id(), atdActivityId: 5001, emiId: 'EMI-22017', srNumber: '26-00417731', status: ready, activityName: 'Dispatch Technician', issueStatus: 'in_progress', details: 'Signal dark at Lamar & 5th; tech en route', when: { date: '2026-11-28', time: '07:42' } },
      { id: id(), atdActivityId: 5002, emiId: 'EMI-22017', srNumber: '26-00417731', status: ready, activityName: 'Complete  Repairs ', issueStatus: 'repairs_complete', details: 'Replaced controller cabinet fuse.\nTested all phases — OK', when: { date: '2026-11-28', time: '09:15' } },
      { id: id(), atdActivityId: 5003, emiId: 'EMI-22017', srNumber: '26-00417731', status: ready, activityName: 'Close Issue (Resolved)', issueStatus: 'closed_resolved', details: 'Closed after repair', when: { date: '2026-11-28', time: '09:20' } },
      { id: id(), atdActivityId: 5004, emiId: 'EMI-22040', srNumber: '26-00418002', status: ready, activityName: 'Adjust Timing', issueStatus: 'in_progress', details: 'Caller (Señora Núñez) says the left arrow is <5 s; extended to 8 s 🚦', when: { date: '2026-11-28', time: '10:05' } },
      { id: id(), atdActivityId: 5005, emiId: 'EMI-22040', srNumber: '26-00418002', status: ready, activityName: 'Post Tweet', issueStatus: 'in_progress', details: 'Tweeted the lane closure', when: { date: '2026-11-28', time: '10:30' } },
      { id: id(), atdActivityId: 5006, emiId: 'EMI-22040', srNumber: '26-00418002', status: ready, activityName: 'Close Issue (Duplicate)', issueStatus: 'closed_duplicate', details: 'Duplicate of 26-00417731', when: { date: '2026-11-28', time: '11:02' } },
      { id: id(), atdActivityId: 5007, emiId: 'EMI-22051', srNumber: '26-00418115', status: ready, activityName: 'Recalibrate Flux Capacitor', issueStatus: 'in_progress', details: 'Name not in activity_codes: this one must fail alone', when: { date: '2026-11-28', time: '13:40' } },
      { id: id(), atdActivityId: 5008, emiId: 'EMI-22051', srNumber: '26-00418115', status: ready, activityName: 'Monitor Situation on CCTV', issueStatus: 'in_progress', details: 'Watching queue on camera #114', when: { date: '2026-11-28', time: '14:10' } },
      { id: id(), atdActivityId: 5009, emiId: '', srNumber: '26-00418200', status: ready, activityName: 'Dispatch Technician', issueStatus: 'in_progress', details: 'No EMI yet: the sweep filter leaves this one alone', when: { date: '2026-11-28', time: '15:00' } },
      { id: id(), atdActivityId: 4990, emiId: 'EMI-21900', srNumber: '26-00410000', status: 'SENT', activityName: 'Dispatch Technician', issueStatus: 'in_progress', details: 'Sent yesterday', when: { date: '2026-11-27', time: '16:00' } }
    ],
    'signs-markings': [
      { id: id(), atdActivityId: 801, emiId: 'EMI-9311', srNumber: '26-00417990', status: ready, activityName: 'Conduct Investigation', issueStatus: 'in_progress', details: 'Stop sign faded at Guadalupe/W 24th', when: { date: '2026-11-28', time: '08:30' } },
      { id: id(), atdActivityId: 802, emiId: 'EMI-9311', srNumber: '26-00417990', status: ready, activityName: 'Repair/Replace', issueStatus: 'repairs_complete', details: 'Sign replaced (30" R1-1)', when: { date: '2026-11-28', time: '12:45' } },
      { id: id(), atdActivityId: 803, emiId: 'EMI-9320', srNumber: '26-00418050', status: ready, activityName: 'Attach Image', issueStatus: 'in_progress', details: 'photo.jpg', when: { date: '2026-11-28', time: '12:50' } },
      { id: id(), atdActivityId: 804, emiId: 'EMI-9320', srNumber: '26-00418050', status: ready, activityName: 'Send Email', issueStatus: 'in_progress', details: 'Emailed citizen: "we\'ll be there Monday"', when: { date: '2026-11-28', time: '13:05' } }
    ]
  }
}
