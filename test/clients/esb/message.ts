// A valid SOAP message for the ESB client tests (the simulator checks what the real ESB checks).

export function esbMessage(srNumber = 'SR-1001', details = 'Replaced sign a<b & c'): string {
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:acc="http://www.austintexas.gov/AcceptKnack/">' +
    '<soapenv:Header/><soapenv:Body><acc:submitKnack>' +
    '<header><emi>EMI-9</emi><timestamp>2024-05-01T10:00:00-05:00</timestamp><source>KNACK</source>' +
    '<target>CSR</target><data_type>CSR</data_type><event>UPDATE</event></header>' +
    '<data><csr><id>rec1</id><csr_activity_id/><sr_number>' +
    srNumber +
    '</sr_number><issue_status_code>closed_resolved</issue_status_code><activity_type_code>SIGNREPL</activity_type_code>' +
    `<activity_details>${esc(details)}</activity_details><outcome_code>COMPLET1</outcome_code>` +
    '<activity_date>2024-05-01T09:30:00-05:00</activity_date></csr></data>' +
    '</acc:submitKnack></soapenv:Body></soapenv:Envelope>'
  )
}
