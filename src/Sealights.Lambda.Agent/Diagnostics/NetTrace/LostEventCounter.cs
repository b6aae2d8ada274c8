namespace Sealights.Lambda.Agent.Diagnostics.NetTrace;

/// <summary>
/// Counts events the runtime dropped (full session buffers): each capturing thread numbers its
/// events 1, 2, 3…, so a gap in one thread's numbers, or a sequence point naming a number past
/// the last event seen from that thread, is that many lost events. A number that goes back is a
/// new thread reusing an id, not a loss.
/// </summary>
internal sealed class LostEventCounter
{
    private readonly Dictionary<long, int> _lastSequence = [];

    public long Lost { get; private set; }

    public void Observe(long captureThreadId, int sequenceNumber)
    {
        if (_lastSequence.TryGetValue(captureThreadId, out var last) && sequenceNumber > last + 1)
        {
            Lost += sequenceNumber - last - 1;
        }

        _lastSequence[captureThreadId] = sequenceNumber;
    }

    public void AtSequencePoint(long captureThreadId, int sequenceNumber)
    {
        if (_lastSequence.TryGetValue(captureThreadId, out var last) && sequenceNumber > last)
        {
            Lost += sequenceNumber - last;
            _lastSequence[captureThreadId] = sequenceNumber;
        }
    }
}
