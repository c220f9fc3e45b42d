{{-- Stockwire alert template for LibreNMS (docs/assets.md, "Network monitoring intake").

     Attach it to the rules whose alerts Stockwire should read, and add an API transport
     named "Stockwire" (method POST, URL https://<assets>/api/v1/webhooks/librenms,
     headers Content-Type=application/json and Authorization=Bearer <secret>, body
     {{ $msg }}). For that transport it renders the JSON body Stockwire reads; for every
     other transport of the same rules, the usual text. The device's serial, location and
     software version come from its LibreNMS device fields; set each device's location
     to its Stockwire location code. --}}
@if ($alert->transport_name === 'Stockwire')
{!! json_encode([
    'uid' => (int) $alert->uid,
    'state' => (int) $alert->state,
    'severity' => (string) $alert->severity,
    'timestamp' => \Illuminate\Support\Carbon::parse($alert->timestamp)->toIso8601String(),
    'device_id' => (int) $alert->device_id,
    'hostname' => (string) $alert->hostname,
    'sysName' => $alert->sysName,
    'rule' => (string) ($alert->name ?: $alert->rule),
    'title' => (string) $alert->title,
    'device' => [
        'serial' => $alert->serial,
        'location' => $alert->location,
        'firmware_version' => $alert->version,
        'hardware' => $alert->hardware,
        'os' => $alert->os,
    ],
    'faults' => array_values((array) $alert->faults),
    'instance' => '',
], JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE) !!}
@else
{{ $alert->title }}
Severity: {{ $alert->severity }}
@if ($alert->state == 0) Time elapsed: {{ $alert->elapsed }} @endif
Timestamp: {{ $alert->timestamp }}
Unique-ID: {{ $alert->uid }}
Rule: @if ($alert->name) {{ $alert->name }} @else {{ $alert->rule }} @endif
@if ($alert->faults) Faults:
@foreach ($alert->faults as $key => $value)
  #{{ $key }}: {{ $value['string'] }}
@endforeach
@endif
@endif
